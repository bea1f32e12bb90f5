{% macro scd2_versions(relation, natural_key, attributes, where=none) -%}
    {#- SCD Type 2 versions by BUSINESS time (order date), derived from every
        silver row of a natural key, so the result depends only on the rows and
        never on the order in which files arrived (a late file re-derives the same
        history a full rebuild gives).

        Rules: one attribute set per key and order date (the order line with the
        highest row_id that day wins: deterministic tie-break); a version starts on
        the first order date whose attribute set differs from the previous order
        date's; valid_from is inclusive, valid_to exclusive (= next version's
        valid_from, 9999-12-31 for the current version). -#}
with observations as (
    select
        {{ natural_key }},
        order_date,
        row_id,
        {{ attributes | join(',\n        ') }},
        {{ surrogate_key(attributes) }} as attributes_hash
    from {{ relation }}
    {% if where %}where {{ where }}{% endif %}
),

ranked_in_day as (
    select
        observations.*,
        row_number() over (
            partition by {{ natural_key }}, order_date order by row_id desc
        ) as rank_in_day
    from observations
),

daily as (
    select * from ranked_in_day where rank_in_day = 1
),

compared as (
    select
        daily.*,
        lag(attributes_hash) over (
            partition by {{ natural_key }} order by order_date
        ) as previous_attributes_hash
    from daily
),

version_starts as (
    select * from compared
    where previous_attributes_hash is null
        or previous_attributes_hash <> attributes_hash
),

windowed as (
    select
        version_starts.*,
        lead(order_date) over (
            partition by {{ natural_key }} order by order_date
        ) as next_version_from,
        row_number() over (
            partition by {{ natural_key }} order by order_date
        ) as version_number
    from version_starts
)

select
    {{ natural_key }},
    {{ attributes | join(',\n    ') }},
    order_date as valid_from,
    coalesce(next_version_from, {{ end_of_time() }}) as valid_to,
    case when next_version_from is null then true else false end as is_current,
    version_number
from windowed
{%- endmacro %}
