-- One-time Snowflake set-up for the gold layer, run by an account admin (not by the
-- pipeline). Afterwards the dbt task only needs the role below: its
-- `stage_silver_tables` macro creates the Delta Direct Iceberg tables itself
-- (IF NOT EXISTS, so the role owns them, which REFRESH requires) and refreshes them
-- before every `dbt build`; dbt creates and owns the gold tables and views. The task
-- creates no schema: both exist here, so dbt finds GOLD (SHOW SCHEMAS lists it for
-- the role) and never runs CREATE SCHEMA. Every statement the task runs is checked
-- against the grants below by tests/dbt_project/test_snowflake_privileges.py.
--
-- Replace the <...> placeholders. Names in capitals are the defaults the dbt task
-- expects (env SNOWFLAKE_EXTERNAL_VOLUME, SNOWFLAKE_CATALOG_INTEGRATION,
-- SNOWFLAKE_DATABASE, SNOWFLAKE_WAREHOUSE, SNOWFLAKE_ROLE, SNOWFLAKE_USER,
-- SNOWFLAKE_READER_ROLE).

use role accountadmin;

-- 1. External volume over the lake bucket, read-only for Snowflake. After creating it,
--    run DESC EXTERNAL VOLUME and put STORAGE_AWS_IAM_USER_ARN / STORAGE_AWS_EXTERNAL_ID
--    into the trust policy of <snowflake-read-role-arn> (an IAM role with s3:GetObject,
--    s3:GetObjectVersion, s3:ListBucket on the lake bucket's silver/ prefix).
create external volume if not exists SALES_LAKE_VOLUME
    storage_locations = ((
        name = 'sales-lake'
        storage_provider = 'S3'
        storage_base_url = 's3://<lake-bucket>/'
        storage_aws_role_arn = '<snowflake-read-role-arn>'
    ))
    allow_writes = false;

-- 2. Catalog integration for Delta tables in object storage ("Delta Direct"): Snowflake
--    reads the Delta transaction log itself, no external catalog.
create catalog integration if not exists SALES_LAKE_DELTA_CATALOG
    catalog_source = object_store
    table_format = delta
    enabled = true;

-- 3. Database, warehouse, and a least-privilege role for the dbt task.
create database if not exists SALES;
create schema if not exists SALES.SILVER;   -- the Delta Direct tables (var silver_schema)
create schema if not exists SALES.GOLD;     -- the star schema (SNOWFLAKE_SCHEMA)
create warehouse if not exists SALES_DBT_WH
    warehouse_size = 'XSMALL' auto_suspend = 60 auto_resume = true initially_suspended = true;

create role if not exists SALES_DBT;
grant usage on warehouse SALES_DBT_WH to role SALES_DBT;
grant usage on database SALES to role SALES_DBT;
grant usage, create iceberg table on schema SALES.SILVER to role SALES_DBT;
grant usage, create table, create view on schema SALES.GOLD to role SALES_DBT;
grant usage on external volume SALES_LAKE_VOLUME to role SALES_DBT;
grant usage on integration SALES_LAKE_DELTA_CATALOG to role SALES_DBT;

-- 4. Service user with key-pair authentication (no password). The private key lives
--    in AWS Secrets Manager and reaches the ECS task as DBT_ENV_SECRET_SNOWFLAKE_PRIVATE_KEY.
--    Generate: openssl genrsa 2048 | openssl pkcs8 -topk8 -nocrypt -out rsa_key.p8
--              openssl rsa -in rsa_key.p8 -pubout   (paste the body below)
create user if not exists SALES_DBT_SVC
    type = service
    default_role = SALES_DBT
    default_warehouse = SALES_DBT_WH
    rsa_public_key = '<public key body without the BEGIN/END lines>';
grant role SALES_DBT to user SALES_DBT_SVC;

-- 5. Every session of the service user runs in UTC (the account default is
--    America/Los_Angeles, with daylight saving). dbt-snowflake 1.11 sets no session
--    parameter from the profile but QUERY_TAG (and S3_STAGE_VPCE_DNS_NAME), so the
--    user-level parameter is what covers every connection of the task. The models compare instants anyway (macro
--    type_instant); this keeps anything shown or converted in the task's sessions in UTC.
alter user SALES_DBT_SVC set timezone = 'UTC';

-- 6. Read-only role for BI users: every gold mart, after every rebuild. dbt rebuilds a
--    mart by CREATE OR REPLACE, which drops the grants on the table it replaces, so:
--      - dbt grants SELECT again right after building each mart: the `grants` config
--        on the marts in dbt/dbt_project.yml (role from env SNOWFLAKE_READER_ROLE,
--        default SALES_READER). The dbt task's role owns the marts, which is all a
--        GRANT on one table needs, so the task needs no grant for it here;
--      - the FUTURE grants below are the belt and braces: every table or view created
--        in GOLD is readable by the reader the moment it exists, so there is no window
--        between CREATE OR REPLACE and dbt's GRANT, and a build that fails between the
--        two (or a mart added without the config) still leaves it readable. They cover
--        the staging and intermediate relations in GOLD too (the same data the marts
--        are made of); drop them if readers must see the marts only.
--    Future grants reach only objects created after them; the ALL grants cover what a
--    build already created when this script is run again on a live account. Rename the
--    role here and in SNOWFLAKE_READER_ROLE together: on an incremental run dbt revokes
--    from the fact every SELECT its config does not list (SHOW GRANTS, then REVOKE).
create role if not exists SALES_READER;
-- the warehouse BI queries run on: the task's here (XSMALL, auto-suspended); give the
-- readers a warehouse of their own instead if their queries should not queue with builds
grant usage on warehouse SALES_DBT_WH to role SALES_READER;
grant usage on database SALES to role SALES_READER;
grant usage on schema SALES.GOLD to role SALES_READER;
grant select on future tables in schema SALES.GOLD to role SALES_READER;
grant select on future views in schema SALES.GOLD to role SALES_READER;
grant select on all tables in schema SALES.GOLD to role SALES_READER;
grant select on all views in schema SALES.GOLD to role SALES_READER;
-- the BI tool's users or role (one line per grantee)
grant role SALES_READER to role <bi-tool-role>;
