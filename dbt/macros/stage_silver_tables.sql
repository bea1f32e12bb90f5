{% macro stage_silver_tables() -%}
    {#- Run by the dbt task before `dbt build` on Snowflake (dbt run-operation):
        makes the silver Delta tables queryable as Delta Direct Iceberg tables and
        refreshes them to the latest Delta commit. Idempotent: IF NOT EXISTS, then
        REFRESH. The external volume and the catalog integration (CATALOG_SOURCE =
        OBJECT_STORE, TABLE_FORMAT = DELTA) are created once by an admin, see
        dbt/snowflake/admin_setup.sql; their names come from the environment.

        Privileges: only what admin_setup.sql grants (checked offline by
        tests/dbt_project/test_snowflake_privileges.py). The silver schema is created
        by the admin, not here: CREATE SCHEMA IF NOT EXISTS would need CREATE SCHEMA on
        the database even when the schema exists. REFRESH needs OWNERSHIP of the table,
        which the task's role has because it creates the tables (a table created by
        anyone else must be handed over: grant ownership ... copy current grants).

        auto_refresh = false, deliberately: the REFRESH below runs before every build,
        so the build reads the silver commit that was current when it started. Automated
        refresh would add polling at Snowflake's interval, billed as serverless compute
        around the clock, and could move the table to a newer snapshot in the middle of a
        build, between staging and the test assert_staging_mirrors_silver that compares
        them. -#}
    {%- if target.type != 'snowflake' -%}
        {{ log("stage_silver_tables: nothing to do on " ~ target.type ~ " (the delta plugin reads silver)", info=true) }}
        {{ return(none) }}
    {%- endif -%}
    {%- set external_volume = env_var('SNOWFLAKE_EXTERNAL_VOLUME', 'SALES_LAKE_VOLUME') -%}
    {%- set catalog = env_var('SNOWFLAKE_CATALOG_INTEGRATION', 'SALES_LAKE_DELTA_CATALOG') -%}
    {%- set schema = target.database ~ '.' ~ var('silver_schema') -%}
    {%- set statements = [] -%}
    {%- for table, base_location in [('sales', 'silver/sales/'), ('quarantine', 'silver/quarantine/')] -%}
        {%- do statements.append(
            'create iceberg table if not exists ' ~ schema ~ '.' ~ table
            ~ " external_volume = '" ~ external_volume ~ "'"
            ~ " catalog = '" ~ catalog ~ "'"
            ~ " base_location = '" ~ base_location ~ "'"
            ~ " auto_refresh = false"
            ~ " comment = 'silver/" ~ table ~ " (Delta, written by the Glue jobs)'"
        ) -%}
        {%- do statements.append('alter iceberg table ' ~ schema ~ '.' ~ table ~ ' refresh') -%}
    {%- endfor -%}
    {%- for statement in statements -%}
        {{ log("stage_silver_tables: " ~ statement, info=true) }}
        {%- do run_query(statement) -%}
    {%- endfor -%}
{%- endmacro %}
