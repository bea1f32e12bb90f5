{% test not_null_columns(model, column_names) %}
{#- dbt's not_null for several columns of one model: one test node and one scan
    instead of one of each per column. A build pays ~15 ms of dbt overhead per test
    node (compile, events, connection, artifacts) and ~1 ms of SQL per not_null
    check, so one node per column made not_null most of the fixed cost of a build.

    Fails with one row per column that holds nulls (column_name, null_rows). dbt's
    failure message only counts rows, so the columns are also named in the build
    log, e.g. "not_null: fact_sales.customer_sk holds 3 null row(s)", which the dbt
    task appends to its failure line. That costs the same aggregate once more while
    the test compiles (a few ms; passing builds run it too). -#}
{%- set null_counts -%}
    select
    {%- for column_name in column_names %}
        count(*) - count({{ column_name }}) as null_rows_{{ loop.index }}
        {{- "," if not loop.last }}
    {%- endfor %}
    from {{ model }}
{%- endset -%}
{%- if execute -%}
    {%- set counts = run_query(null_counts).rows[0] -%}
    {%- for column_name in column_names -%}
        {%- if counts[loop.index0] -%}
            {{ log("not_null: " ~ model.identifier ~ "." ~ column_name ~ " holds "
                   ~ counts[loop.index0] ~ " null row(s)", info=true) }}
        {%- endif -%}
    {%- endfor -%}
{%- endif %}
with null_counts as (
    {{ null_counts }}
)
{% for column_name in column_names %}
select '{{ column_name }}' as column_name, null_rows_{{ loop.index }} as null_rows
from null_counts
where null_rows_{{ loop.index }} > 0
{% if not loop.last %}union all{% endif %}
{% endfor %}
{% endtest %}
