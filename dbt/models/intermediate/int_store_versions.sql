{#- Where the sale happened. Natural key: the place itself (country, state, city,
    postal code; hashed into store_nk), because a US city spans several postal
    codes and the same city name exists in several countries. Market and region
    are the tracked attributes: a market re-organisation opens a new version. -#}
{{ config(
    materialized='incremental',
    unique_key='store_nk',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook="{{ scd2_delete_vanished_keys(this) }}"
) }}
{{ scd2_versions(
    relation=ref('stg_silver__sales'),
    natural_key='store_nk',
    attributes=['country', 'state', 'city', 'postal_code', 'market', 'region'],
    where='not is_deleted and store_nk is not null'
) }}
