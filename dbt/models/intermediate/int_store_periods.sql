{#- Where the sale shipped, per period. Natural key: the place itself (country, state,
    city, postal code; hashed into store_nk), because a US city spans several postal
    codes and the same city name exists in several countries. Market and region are
    tracked: a market re-organisation opens a version, a city exported under two
    labels at once is a conflict. -#}
{{ config(
    materialized='incremental',
    unique_key='store_nk',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook="{{ scd2_delete_vanished_keys(this) }}"
) }}
{{ scd2_periods(
    scd2_dimension('dim_store'), ref('stg_silver__sales'),
    where='not is_deleted and store_nk is not null'
) }}
