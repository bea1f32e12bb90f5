{% macro scd2_dimensions() -%}
    {#- The SCD Type 2 dimensions and their keys, for the singular tests that check
        every one of them the same way. -#}
    {{ return([
        {'model': 'dim_customer', 'natural_key': 'customer_id', 'surrogate_key': 'customer_sk'},
        {'model': 'dim_product', 'natural_key': 'product_id', 'surrogate_key': 'product_sk'},
        {'model': 'dim_store', 'natural_key': 'store_nk', 'surrogate_key': 'store_sk'},
    ]) }}
{%- endmacro %}
