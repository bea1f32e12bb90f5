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
-- SNOWFLAKE_DATABASE, SNOWFLAKE_WAREHOUSE, SNOWFLAKE_ROLE, SNOWFLAKE_USER).

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
--    in AWS Secrets Manager and reaches the ECS task as SNOWFLAKE_PRIVATE_KEY.
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
