{#- The only reader of silver/sales: typed, named once, plus the store natural
    key. Keeps soft-deleted rows (is_deleted) because the fact must see them to
    remove them; every downstream model filters on it.

    Incremental: only silver rows written since the last run are read and merged
    (ingested_at > the newest ingested_at staged, minus var silver_lookback_minutes).
    Silver jobs stamp every row they write with their run's start time, a run
    commits atomically and writers are serialized, so a later run's rows carry a
    strictly newer stamp and the newest staged run is always staged completely. The
    stamps are compared as instants (macro type_instant), never as wall-clock times,
    so no session time zone or daylight-saving change can move the watermark. The test
    assert_staging_mirrors_silver compares this copy with silver on every build; if
    it ever fails, `--full-refresh` rebuilds from scratch. -#}
{{ config(
    materialized='incremental',
    unique_key='row_id',
    incremental_strategy='merge',
    on_schema_change='fail'
) }}

with source as (
    select * from {{ source('silver', 'sales') }}
    {% if is_incremental() %}
    where {{ silver_column('ingested_at') }} > (
        select {{ dbt.dateadd('minute', -1 * var('silver_lookback_minutes'),
                              'coalesce(max(ingested_at), ' ~ start_of_time() ~ ')') }}
        from {{ this }}
    )
    {% endif %}
),

typed as (
    select
        cast({{ silver_column('row_id') }} as {{ dbt.type_bigint() }}) as row_id,
        cast({{ silver_column('order_id') }} as {{ dbt.type_string() }}) as order_id,
        cast({{ silver_column('order_date') }} as date) as order_date,
        cast({{ silver_column('ship_date') }} as date) as ship_date,
        cast({{ silver_column('ship_mode') }} as {{ dbt.type_string() }}) as ship_mode,
        cast({{ silver_column('customer_id') }} as {{ dbt.type_string() }}) as customer_id,
        cast({{ silver_column('customer_name') }} as {{ dbt.type_string() }}) as customer_name,
        cast({{ silver_column('segment') }} as {{ dbt.type_string() }}) as segment,
        cast({{ silver_column('city') }} as {{ dbt.type_string() }}) as city,
        cast({{ silver_column('state') }} as {{ dbt.type_string() }}) as state,
        cast({{ silver_column('country') }} as {{ dbt.type_string() }}) as country,
        -- blank outside the US: one spelling (null) for "no postal code"
        nullif(trim(cast({{ silver_column('postal_code') }} as {{ dbt.type_string() }})), '')
            as postal_code,
        cast({{ silver_column('market') }} as {{ dbt.type_string() }}) as market,
        cast({{ silver_column('region') }} as {{ dbt.type_string() }}) as region,
        cast({{ silver_column('product_id') }} as {{ dbt.type_string() }}) as product_id,
        cast({{ silver_column('category') }} as {{ dbt.type_string() }}) as category,
        cast({{ silver_column('sub_category') }} as {{ dbt.type_string() }}) as sub_category,
        cast({{ silver_column('product_name') }} as {{ dbt.type_string() }}) as product_name,
        cast({{ silver_column('sales') }} as {{ var('money_type') }}) as sales,
        cast({{ silver_column('quantity') }} as integer) as quantity,
        cast({{ silver_column('discount') }} as {{ var('rate_type') }}) as discount,
        cast({{ silver_column('profit') }} as {{ var('money_type') }}) as profit,
        cast({{ silver_column('shipping_cost') }} as {{ var('money_type') }}) as shipping_cost,
        cast({{ silver_column('order_priority') }} as {{ dbt.type_string() }}) as order_priority,
        cast({{ silver_column('source_uri') }} as {{ dbt.type_string() }}) as source_uri,
        cast({{ silver_column('source_kind') }} as {{ dbt.type_string() }}) as source_kind,
        cast({{ silver_column('run_id') }} as {{ dbt.type_string() }}) as run_id,
        cast({{ silver_column('ingested_at') }} as {{ type_instant() }}) as ingested_at,
        cast({{ silver_column('record_hash') }} as {{ dbt.type_string() }}) as record_hash,
        cast({{ silver_column('is_deleted') }} as boolean) as is_deleted
    from source
),

final as (
    select
        typed.*,
        -- where the sale happened; unknown when no part of the place is known
        case
            when country is null and state is null and city is null then null
            else {{ surrogate_key(['country', 'state', 'city', 'postal_code']) }}
        end as store_nk
    from typed
)

select * from final
