{#- The product's name and category per period. Real exports reuse product ids for
    several products at once: those names alternate and are reported as conflicts
    (dq_dimension_conflicts), the period keeping the name most lines carry. -#}
{{ config(
    materialized='incremental',
    unique_key='product_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook="{{ scd2_delete_vanished_keys(this) }}"
) }}
{{ scd2_periods(scd2_dimension('dim_product'), ref('stg_silver__sales'), where='not is_deleted') }}
