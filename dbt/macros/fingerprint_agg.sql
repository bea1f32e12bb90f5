{#- An order-independent fingerprint of a set of rows (aggregate over a text
    expression), to compare two copies of a table in one query on the same engine.
    Snowflake has HASH_AGG; DuckDB sums 64-bit hashes into a HUGEINT. -#}

{% macro fingerprint_agg(expression) -%}
    {{ return(adapter.dispatch('fingerprint_agg', 'sales_gold')(expression)) }}
{%- endmacro %}

{% macro default__fingerprint_agg(expression) -%}
    sum(cast(hash({{ expression }}) as hugeint))
{%- endmacro %}

{% macro snowflake__fingerprint_agg(expression) -%}
    hash_agg({{ expression }})
{%- endmacro %}
