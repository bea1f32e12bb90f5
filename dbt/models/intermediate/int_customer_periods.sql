{#- The customer's own attributes (name, segment) per period: where an order ships
    is the sale's location (dim_store), not a property of the customer. -#}
{{ config(
    materialized='incremental',
    unique_key='customer_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook="{{ scd2_delete_vanished_keys(this) }}"
) }}
{{ scd2_periods(scd2_dimension('dim_customer'), ref('stg_silver__sales'), where='not is_deleted') }}
