{#- Each natural key's versions tile time: valid_from < valid_to, each version
    ends exactly where the next begins (no overlap, no gap), the last one is open
    (9999-12-31). Returns the offending versions. -#}
{% for dim in scd2_dimensions() %}
select
    '{{ dim.model }}' as dimension,
    cast({{ dim.natural_key }} as {{ dbt.type_string() }}) as natural_key,
    valid_from,
    valid_to,
    next_valid_from
from (
    select
        {{ dim.natural_key }},
        valid_from,
        valid_to,
        lead(valid_from) over (
            partition by {{ dim.natural_key }} order by valid_from
        ) as next_valid_from
    from {{ ref(dim.model) }}
) as windows
where valid_from >= valid_to
    or (next_valid_from is not null and next_valid_from <> valid_to)
    or (next_valid_from is null and valid_to <> {{ end_of_time() }})
{% if not loop.last %}union all{% endif %}
{% endfor %}
