{#- Point in time: every fact's dimension key is the version of its own natural
    key whose window contains the order date (or the unknown member when the
    natural key is unknown). The fact is read once per dimension, only the
    columns each check needs (a `select *` CTE referenced three times would be
    materialized whole by DuckDB). -#}
{% for dim in scd2_dimensions() %}
select
    facts.row_id,
    '{{ dim.model }}' as dimension
from (
    select row_id, order_date, {{ dim.natural_key }}, {{ dim.surrogate_key }}
    from {{ ref('fact_sales') }}
) as facts
left join {{ ref(dim.model) }} as versions
    on versions.{{ dim.surrogate_key }} = facts.{{ dim.surrogate_key }}
where versions.{{ dim.surrogate_key }} is null
    or (
        facts.{{ dim.natural_key }} is null
        and versions.{{ dim.surrogate_key }} <> {{ unknown_member_key() }}
    )
    or (
        facts.{{ dim.natural_key }} is not null
        and (
            versions.{{ dim.natural_key }} <> facts.{{ dim.natural_key }}
            or facts.order_date < versions.valid_from
            or facts.order_date >= versions.valid_to
        )
    )
{% if not loop.last %}union all{% endif %}
{% endfor %}
