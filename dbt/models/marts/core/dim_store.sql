{#- The sale's ship-to location, one row per version of its market and region. -#}
{{ scd2_dimension_versions(
    scd2_dimension('dim_store'), unknown_values={'postal_code': 'null'}
) }}
