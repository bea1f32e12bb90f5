{#- The only reader of silver/quarantine (small: rebuilt as a table every run). -#}
{{ config(materialized='table') }}
with source as (
    select * from {{ source('silver', 'quarantine') }}
),

final as (
    select
        cast({{ silver_column('run_id') }} as {{ dbt.type_string() }}) as run_id,
        cast({{ silver_column('source_uri') }} as {{ dbt.type_string() }}) as source_uri,
        cast({{ silver_column('source_version') }} as {{ dbt.type_string() }}) as source_version,
        cast({{ silver_column('source_kind') }} as {{ dbt.type_string() }}) as source_kind,
        cast({{ silver_column('line_number') }} as {{ dbt.type_bigint() }}) as line_number,
        {{ silver_column('reason_codes') }} as reason_codes,
        cast({{ silver_column('reason_detail') }} as {{ dbt.type_string() }}) as reason_detail,
        cast({{ silver_column('quarantined_at') }} as {{ type_instant() }}) as quarantined_at
    from source
)

select * from final
