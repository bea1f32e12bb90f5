{% macro explode_array(relation, array_column, element_alias) -%}
    {#- One row per element of an array column, other columns kept. DuckDB uses
        unnest, Snowflake lateral flatten (adapter.dispatch). -#}
    {{ return(adapter.dispatch('explode_array', 'sales_gold')(relation, array_column, element_alias)) }}
{%- endmacro %}

{% macro default__explode_array(relation, array_column, element_alias) -%}
    select exploded_source.*, unnest(exploded_source.{{ array_column }}) as {{ element_alias }}
    from {{ relation }} as exploded_source
{%- endmacro %}

{% macro snowflake__explode_array(relation, array_column, element_alias) -%}
    select exploded_source.*, cast(flattened.value as varchar) as {{ element_alias }}
    from {{ relation }} as exploded_source,
        lateral flatten(input => exploded_source.{{ array_column }}) as flattened
{%- endmacro %}
