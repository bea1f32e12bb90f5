{#- Product history by order date: a renamed or re-categorised product gets a new
    version from the first order date carrying the new attributes. -#}
{{ scd2_versions(
    relation=ref('stg_silver__sales'),
    natural_key='product_id',
    attributes=['product_name', 'category', 'sub_category'],
    where='not is_deleted'
) }}
