{% macro scd2_dimensions() -%}
    {#- The SCD Type 2 dimensions: the one place that names their keys, their
        attributes and the attributes whose changes open a version (var
        scd2_track_history_on). The period models, the marts and the singular tests
        all read it. Changing the tracked list needs `dbt build --full-refresh` (the
        incremental period models only re-derive keys whose rows changed). -#}
    {%- set dimensions = [
        {'model': 'dim_customer', 'periods': 'int_customer_periods',
         'natural_key': 'customer_id', 'surrogate_key': 'customer_sk',
         'attributes': ['customer_name', 'segment']},
        {'model': 'dim_product', 'periods': 'int_product_periods',
         'natural_key': 'product_id', 'surrogate_key': 'product_sk',
         'attributes': ['product_name', 'category', 'sub_category']},
        {'model': 'dim_store', 'periods': 'int_store_periods',
         'natural_key': 'store_nk', 'surrogate_key': 'store_sk',
         'attributes': ['country', 'state', 'city', 'postal_code', 'market', 'region']},
    ] -%}
    {%- set tracked_by_model = var('scd2_track_history_on') -%}
    {%- for dimension in dimensions -%}
        {%- set tracked = tracked_by_model.get(dimension.model) -%}
        {%- if not tracked or tracked | reject('in', dimension.attributes) | list -%}
            {{ exceptions.raise_compiler_error(
                "var scd2_track_history_on." ~ dimension.model ~ " = " ~ tracked
                ~ ": list one or more of " ~ dimension.attributes ~ " (dbt_project.yml)") }}
        {%- endif -%}
        {%- do dimension.update({'tracked': tracked}) -%}
    {%- endfor -%}
    {{ return(dimensions) }}
{%- endmacro %}

{% macro scd2_dimension(model) -%}
    {#- The entry of scd2_dimensions() for one dimension model. -#}
    {%- for dimension in scd2_dimensions() if dimension.model == model -%}
        {{ return(dimension) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("scd2_dimension: no dimension " ~ model) }}
{%- endmacro %}
