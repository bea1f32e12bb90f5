{#- Customers, one row per version of their own attributes (var scd2_track_history_on). -#}
{{ scd2_dimension_versions(scd2_dimension('dim_customer')) }}
