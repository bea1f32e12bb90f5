{#- Customer history by order date: a customer who moves (new city/state/country/
    postal code on their orders) or is renamed gets a new version from the first
    order date carrying the new attributes. -#}
{{ config(
    materialized='incremental',
    unique_key='customer_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook="{{ scd2_delete_vanished_keys(this) }}"
) }}
{{ scd2_versions(
    relation=ref('stg_silver__sales'),
    natural_key='customer_id',
    attributes=['customer_name', 'segment', 'city', 'state', 'country', 'postal_code',
                'market', 'region'],
    where='not is_deleted'
) }}
