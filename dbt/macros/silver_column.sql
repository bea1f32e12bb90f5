{% macro silver_column(name) -%}
    {#- A silver column as staging must spell it. Snowflake Delta Direct tables keep
        the Delta schema's lower-case names and resolve quoted names
        case-sensitively, so there the name is quoted (var quote_silver_columns);
        DuckDB is case-insensitive either way. -#}
    {%- if target.type == 'snowflake' and var('quote_silver_columns') -%}
        {{ adapter.quote(name) }}
    {%- else -%}
        {{ name }}
    {%- endif -%}
{%- endmacro %}
