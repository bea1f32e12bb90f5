{#- An order-independent fingerprint of a set of rows (aggregate over a text
    expression), to compare two copies of a table in one query on the same engine:
    the sum of the rows' 64-bit hashes (HUGEINT on DuckDB, NUMBER(38,0) on
    Snowflake). Snowflake's HASH_AGG would do, but fakesnow (the offline check of the
    prod target) cannot translate it. -#}

{% macro fingerprint_agg(expression) -%}
    {{ return(adapter.dispatch('fingerprint_agg', 'sales_gold')(expression)) }}
{%- endmacro %}

{% macro default__fingerprint_agg(expression) -%}
    sum(cast(hash({{ expression }}) as hugeint))
{%- endmacro %}

{% macro snowflake__fingerprint_agg(expression) -%}
    sum(hash({{ expression }}))
{%- endmacro %}
