{#- Points in time (silver's ingested_at and quarantined_at) as instants, never as
    wall-clock times: the watermarks of the incremental models compare them, and a
    wall-clock time depends on the session's time zone. Cast to TIMESTAMP_NTZ in a
    zone with daylight saving (Snowflake's default, America/Los_Angeles), the hour
    after the autumn change repeats the hour before, so a later silver run could stamp
    an earlier-looking time and its rows would fall behind the watermark. Silver's
    Delta TIMESTAMP is an instant (UTC-adjusted); read by dbt-duckdb's delta plugin it
    is a TIMESTAMP WITH TIME ZONE. -#}

{% macro type_instant() -%}
    {{ return(adapter.dispatch('type_instant', 'sales_gold')()) }}
{%- endmacro %}

{% macro default__type_instant() -%}
    timestamp with time zone
{%- endmacro %}

{% macro snowflake__type_instant() -%}
    {#- TIMESTAMP_LTZ: stored as UTC, compared as instants; the session zone only
        changes how a value is shown. (Snowflake's TIMESTAMP WITH TIME ZONE is
        TIMESTAMP_TZ, which keeps an offset per value: also an instant, but wider.) -#}
    timestamp_ltz
{%- endmacro %}
