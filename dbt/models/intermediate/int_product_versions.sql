{#- Product history by order date: a renamed or re-categorised product gets a new
    version from the first order date carrying the new attributes. -#}
{{ config(
    materialized='incremental',
    unique_key='product_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook="{{ scd2_delete_vanished_keys(this) }}"
) }}
{{ scd2_versions(
    relation=ref('stg_silver__sales'),
    natural_key='product_id',
    attributes=['product_name', 'category', 'sub_category'],
    where='not is_deleted'
) }}
