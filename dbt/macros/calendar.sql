{#- Calendar functions whose names differ between engines (adapter.dispatch). -#}

{% macro day_of_week_iso(column) -%}
    {{ return(adapter.dispatch('day_of_week_iso', 'sales_gold')(column)) }}
{%- endmacro %}

{% macro default__day_of_week_iso(column) -%}
    extract(isodow from {{ column }})
{%- endmacro %}

{% macro snowflake__day_of_week_iso(column) -%}
    dayofweekiso({{ column }})
{%- endmacro %}

{% macro week_of_year_iso(column) -%}
    {{ return(adapter.dispatch('week_of_year_iso', 'sales_gold')(column)) }}
{%- endmacro %}

{% macro default__week_of_year_iso(column) -%}
    extract(week from {{ column }})
{%- endmacro %}

{% macro snowflake__week_of_year_iso(column) -%}
    weekiso({{ column }})
{%- endmacro %}
