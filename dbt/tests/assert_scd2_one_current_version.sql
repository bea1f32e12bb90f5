{#- Exactly one current version per natural key, and it is the open one. -#}
{% for dim in scd2_dimensions() %}
select
    '{{ dim.model }}' as dimension,
    cast({{ dim.natural_key }} as {{ dbt.type_string() }}) as natural_key,
    sum(case when is_current then 1 else 0 end) as current_versions,
    sum(case when is_current and valid_to <> {{ end_of_time() }} then 1 else 0 end)
        as current_but_closed
from {{ ref(dim.model) }}
group by {{ dim.natural_key }}
having sum(case when is_current then 1 else 0 end) <> 1
    or sum(case when is_current and valid_to <> {{ end_of_time() }} then 1 else 0 end) > 0
{% if not loop.last %}union all{% endif %}
{% endfor %}
