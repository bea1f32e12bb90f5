{#- Key helpers. dbt-utils is not available offline (no `dbt deps`), so these are
    small equivalents over dbt's cross-database macros; they give the same md5 hex
    strings on DuckDB and Snowflake. -#}

{% macro surrogate_key(columns) -%}
    {#- md5 over the columns cast to text, nulls made visible, '|' between parts so
        ('ab', 'c') and ('a', 'bc') differ. -#}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '~null~')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}

{% macro unknown_member_key() -%}
    {#- Key of the unknown-member row every dimension carries, so facts never hold
        a null key. -#}
    {{ dbt.hash("'unknown'") }}
{%- endmacro %}

{% macro date_key(column) -%}
    {#- yyyymmdd integer, the conventional calendar key. -#}
    cast(
        extract(year from {{ column }}) * 10000
        + extract(month from {{ column }}) * 100
        + extract(day from {{ column }})
        as integer)
{%- endmacro %}

{% macro end_of_time() -%}
    cast('9999-12-31' as date)
{%- endmacro %}

{% macro start_of_time() -%}
    cast('1900-01-01' as date)
{%- endmacro %}
