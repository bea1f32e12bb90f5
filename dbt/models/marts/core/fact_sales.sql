{#- Order-line grain, incremental: MERGE on row_id, then a post-hook deletes the
    lines whose silver row is soft-deleted (MERGE cannot delete).

    Incremental == full refresh. A fact row is a function of its silver row and of
    the version of its customer, product and store valid on its order date; its
    surrogate keys are md5(natural key, valid_from). So a row needs rebuilding when
    it was written to silver since the last run (new, updated, soft-deleted), or
    when the start of the version covering it moved. Per natural key K touched by
    the rows written since the last run (their new values and the values this
    table holds for them), the earliest date from which K's rows may change is the
    earliest of: the written rows' order dates, the start of a version the
    dimension now has that no fact row references yet, and the first order date of
    a version the fact references that the dimension no longer has. Below that
    date K's versions start on the same dates as before, so its rows keep their
    keys. A batch of newer orders rebuilds little; a late file, or a conflict
    that moves a version start back, rebuilds the later history of the keys it
    touches. -#}
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

{% for dim in scd2_dimensions() %}
{%- set key, sk = dim.natural_key, dim.surrogate_key %}
{{ key }}_written as (
    select {{ key }}, min(order_date) as changed_from
    from changed_keys where {{ key }} is not null group by {{ key }}
),

{{ key }}_moved as (
    -- versions that appeared or disappeared for the touched keys, from their start
    select
        coalesce(referenced.{{ key }}, current_versions.{{ key }}) as {{ key }},
        min(coalesce(referenced.first_order_date, current_versions.valid_from)) as changed_from
    from (
        select existing.{{ key }}, existing.{{ sk }}, min(existing.order_date) as first_order_date
        from {{ this }} as existing
        inner join {{ key }}_written on {{ key }}_written.{{ key }} = existing.{{ key }}
        group by existing.{{ key }}, existing.{{ sk }}
    ) as referenced
    full outer join (
        select versions.{{ key }}, versions.{{ sk }}, versions.valid_from
        from {{ ref(dim.model) }} as versions
        inner join {{ key }}_written on {{ key }}_written.{{ key }} = versions.{{ key }}
    ) as current_versions
        on current_versions.{{ sk }} = referenced.{{ sk }}
    where referenced.{{ sk }} is null or current_versions.{{ sk }} is null
    group by coalesce(referenced.{{ key }}, current_versions.{{ key }})
),

{{ key }}_rebuild_from as (
    select {{ key }}, min(changed_from) as rebuild_from
    from (
        select {{ key }}, changed_from from {{ key }}_written
        union all
        select {{ key }}, changed_from from {{ key }}_moved
    ) as starts
    group by {{ key }}
),

{% endfor %}
rows_to_rebuild as (
{%- for dim in scd2_dimensions() %}
{%- set key = dim.natural_key %}
    select staged.row_id
    from {{ ref('stg_silver__sales') }} as staged
    inner join {{ key }}_rebuild_from
        on {{ key }}_rebuild_from.{{ key }} = staged.{{ key }}
        and staged.order_date >= {{ key }}_rebuild_from.rebuild_from
    {% if not loop.last %}union{% endif %}
{%- endfor %}
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
        -- the line's own market and region as the export labels it (a place can be
        -- labelled two ways; dim_store keeps one of them, the aggregates use these)
        sales_in_scope.market,
        sales_in_scope.region,
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
