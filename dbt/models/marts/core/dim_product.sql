{#- Products, one row per version. A product without a category in silver (the
    column is optional there) shows 'Unknown', so no mart drops or fails on it. -#}
{{ scd2_dimension_versions(
    scd2_dimension('dim_product'),
    shown_as={'category': "'Unknown'", 'sub_category': "'Unknown'"}
) }}
