{#- Order-line grain, incremental: MERGE on row_id, then a post-hook deletes the
    lines whose silver row is soft-deleted (MERGE cannot delete).

    Incremental == full refresh. A fact row is a function of its silver row and
    of the versions of its customer, product and store, and the versions of a
    natural key depend only on that key's silver rows. The silver rows written
    since the last run (ingested_at > the newest silver_ingested_at here: new,
    updated, soft-deleted) change keys on their order date d, for both their new
    values and the old values this table holds, and a key's version boundaries
    can only move on or after d. So the rows to rebuild are every live row of an
    affected key with order_date >= the earliest changed date of that key. A
    batch of newer orders rebuilds little; a late file rebuilds the later
    history of the keys it touches. -#}
{{ config(
    materialized='incremental',
    unique_key='row_id',
    incremental_strategy='merge',
    on_schema_change='fail',
    post_hook="{{ delete_soft_deleted_rows(this, ref('stg_silver__sales')) }}"
) }}

{#- Staging is referenced directly (no `select *` import CTE): DuckDB materializes
    a CTE referenced more than once, which would copy all of staging on every run. -#}
{% if is_incremental() %}

with written_since_last_run as (
    select row_id, customer_id, product_id, store_nk, order_date
    from {{ ref('stg_silver__sales') }}
    where ingested_at > (
        select coalesce(max(silver_ingested_at), {{ start_of_time() }}) from {{ this }}
    )
),

changed_keys as (
    -- the new values of the rows written since the last run
    select customer_id, product_id, store_nk, order_date from written_since_last_run
    union all
    -- the values this table holds for those rows (an update can move a line)
    select existing.customer_id, existing.product_id, existing.store_nk, existing.order_date
    from {{ this }} as existing
    inner join written_since_last_run on written_since_last_run.row_id = existing.row_id
),

customers_changed as (
    select customer_id, min(order_date) as changed_from
    from changed_keys group by customer_id
),

products_changed as (
    select product_id, min(order_date) as changed_from
    from changed_keys group by product_id
),

stores_changed as (
    select store_nk, min(order_date) as changed_from
    from changed_keys where store_nk is not null group by store_nk
),

rows_to_rebuild as (
    select staged.row_id
    from {{ ref('stg_silver__sales') }} as staged
    inner join customers_changed
        on customers_changed.customer_id = staged.customer_id
        and staged.order_date >= customers_changed.changed_from
    union
    select staged.row_id
    from {{ ref('stg_silver__sales') }} as staged
    inner join products_changed
        on products_changed.product_id = staged.product_id
        and staged.order_date >= products_changed.changed_from
    union
    select staged.row_id
    from {{ ref('stg_silver__sales') }} as staged
    inner join stores_changed
        on stores_changed.store_nk = staged.store_nk
        and staged.order_date >= stores_changed.changed_from
),

sales_in_scope as (
    select staged.*
    from {{ ref('stg_silver__sales') }} as staged
    inner join rows_to_rebuild on rows_to_rebuild.row_id = staged.row_id
    where not staged.is_deleted
),

{% else %}

with sales_in_scope as (
    select * from {{ ref('stg_silver__sales') }} where not is_deleted
),

{% endif %}

dim_customer as (
    select customer_sk, customer_id, valid_from, valid_to from {{ ref('dim_customer') }}
),

dim_product as (
    select product_sk, product_id, valid_from, valid_to from {{ ref('dim_product') }}
),

dim_store as (
    select store_sk, store_nk, valid_from, valid_to from {{ ref('dim_store') }}
),

final as (
    select
        sales_in_scope.row_id,
        sales_in_scope.order_id,
        {{ date_key('sales_in_scope.order_date') }} as order_date_key,
        {{ date_key('sales_in_scope.ship_date') }} as ship_date_key,
        -- point in time: the version valid on the order date
        coalesce(dim_customer.customer_sk, {{ unknown_member_key() }}) as customer_sk,
        coalesce(dim_product.product_sk, {{ unknown_member_key() }}) as product_sk,
        coalesce(dim_store.store_sk, {{ unknown_member_key() }}) as store_sk,
        sales_in_scope.order_date,
        sales_in_scope.ship_date,
        sales_in_scope.ship_mode,
        sales_in_scope.order_priority,
        sales_in_scope.sales,
        sales_in_scope.quantity,
        sales_in_scope.discount,
        sales_in_scope.profit,
        sales_in_scope.shipping_cost,
        -- natural keys and silver lineage: what incremental runs work from
        sales_in_scope.customer_id,
        sales_in_scope.product_id,
        sales_in_scope.store_nk,
        sales_in_scope.record_hash as silver_record_hash,
        sales_in_scope.ingested_at as silver_ingested_at
    from sales_in_scope
    left join dim_customer
        on dim_customer.customer_id = sales_in_scope.customer_id
        and sales_in_scope.order_date >= dim_customer.valid_from
        and sales_in_scope.order_date < dim_customer.valid_to
    left join dim_product
        on dim_product.product_id = sales_in_scope.product_id
        and sales_in_scope.order_date >= dim_product.valid_from
        and sales_in_scope.order_date < dim_product.valid_to
    left join dim_store
        on dim_store.store_nk = sales_in_scope.store_nk
        and sales_in_scope.order_date >= dim_store.valid_from
        and sales_in_scope.order_date < dim_store.valid_to
)

select * from final
