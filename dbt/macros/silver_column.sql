{% macro silver_column(name) -%}
    {#- A silver column as staging must spell it. Snowflake stores and resolves an
        unquoted identifier in upper case and a quoted one exactly as written
        (https://docs.snowflake.com/en/sql-reference/identifiers-syntax). A Delta Direct
        table takes its columns from the Delta transaction log
        (https://docs.snowflake.com/en/sql-reference/sql/create-iceberg-table-delta),
        whose names are lower case here, so on Snowflake the name is quoted (var
        quote_silver_columns). The documentation does not say whether Snowflake
        upper-cases those names: if `describe table <db>.silver.sales` shows them in
        upper case, set quote_silver_columns to false. DuckDB is case-insensitive. -#}
    {%- if target.type == 'snowflake' and var('quote_silver_columns') -%}
        {{ adapter.quote(name) }}
    {%- else -%}
        {{ name }}
    {%- endif -%}
{%- endmacro %}
