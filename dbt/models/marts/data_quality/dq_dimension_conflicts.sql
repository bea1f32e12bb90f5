{#- Every natural key that carries more than one attribute set within one period
    (the same day, values used side by side, or an alternation A -> B -> A within
    var scd2_conflict_window_days): one row per competing attribute set, with how
    many live order lines carry it and when, and which one the dimension keeps
    (rules in docs/gold.md). Real exports reuse product ids and label a city under
    two markets; this is where they show, instead of as version churn. -#}
{% for dim in scd2_dimensions() %}
{%- set parts = [] -%}
{%- for attribute in dim.attributes -%}
    {%- do parts.append("coalesce(cast(" ~ attribute ~ " as " ~ dbt.type_string() ~ "), '')") -%}
    {%- if not loop.last %}{% do parts.append("' | '") %}{% endif -%}
{%- endfor %}
select
    cast('{{ dim.model }}' as {{ dbt.type_string() }}) as dimension,
    cast({{ dim.natural_key }} as {{ dbt.type_string() }}) as natural_key,
    period_start,
    period_end,
    {{ dbt.concat(parts) }} as attribute_values,
    is_kept,
    value_rows,
    first_seen,
    last_seen,
    period_values as competing_values
from {{ ref(dim.periods) }}
where period_values > 1
{% if not loop.last %}union all{% endif %}
{% endfor %}
