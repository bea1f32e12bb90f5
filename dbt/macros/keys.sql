{#- Key helpers. dbt-utils is not available offline (no `dbt deps`), so these are
    small equivalents over dbt's cross-database macros; they give the same md5 hex
    strings on DuckDB and Snowflake. -#}

{% macro surrogate_key(columns) -%}
    {#- md5 over the columns cast to text, nulls made visible, '|' between parts so
        ('ab', 'c') and ('a', 'bc') differ. A DATE column must be passed through
        iso_date(): cast(date as varchar) follows the session's DATE_OUTPUT_FORMAT on
        Snowflake, so the same version would hash differently in another session. -#}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '~null~')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}

{% macro iso_date(column) -%}
    {#- A date as 'YYYY-MM-DD' text whatever the session's formats (keys hash it). -#}
    {{ return(adapter.dispatch('iso_date', 'sales_gold')(column)) }}
{%- endmacro %}

{% macro default__iso_date(column) -%}
    strftime({{ column }}, '%Y-%m-%d')
{%- endmacro %}

{% macro snowflake__iso_date(column) -%}
    to_char({{ column }}, 'YYYY-MM-DD')
{%- endmacro %}

{% macro unknown_member_key() -%}
    {#- Surrogate key of the unknown member every dimension carries, so facts never
        hold a null key. Reserved: not hex, so no md5 surrogate key can equal it. -#}
    'unknown'
{%- endmacro %}

{% macro unknown_member_natural_key() -%}
    {#- Natural key of the unknown member. Reserved: silver rejects a blank customer or
        product id (missing_customer_id, missing_product_id) and store_nk is an md5, so
        no real key is the empty string; a real id 'unknown' would be a second key. -#}
    ''
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
