{% macro scd2_dimension_versions(dimension, unknown_values={}, shown_as={}) -%}
    {#- A dimension's versions from its period model (macro scd2_periods): a version
        starts at each period whose kept TRACKED values differ from the previous
        period's; valid_from inclusive, valid_to exclusive (the next version's
        valid_from, 9999-12-31 for the current one). An attribute the dimension does
        not track shows its latest kept value on every version (type 1). Plus the
        unknown member (reserved keys, macro unknown_member_key) that facts use
        instead of a null key.

        unknown_values: attribute -> SQL literal on the unknown member ('Unknown' by
        default); shown_as: attribute -> SQL literal shown where the value is null. -#}
{%- set key = dimension.natural_key -%}
{%- set untracked = dimension.attributes | reject('in', dimension.tracked) | list %}
with kept as (
    select
        periods.*,
        {% for attribute in untracked %}first_value({{ attribute }}) over (
            partition by {{ key }} order by period_start desc
        ) as latest_{{ attribute }},
        {% endfor %}lag(tracked_hash) over (
            partition by {{ key }} order by period_start
        ) as previous_tracked_hash
    from {{ ref(dimension.periods) }} as periods
    where is_kept
),

version_starts as (
    select * from kept
    where previous_tracked_hash is null or previous_tracked_hash <> tracked_hash
),

versions as (
    select
        {{ key }},
        {% for attribute in dimension.attributes %}{{ attribute if attribute in dimension.tracked else 'latest_' ~ attribute }} as {{ attribute }},
        {% endfor %}period_start as valid_from,
        lead(period_start) over (partition by {{ key }} order by period_start) as next_valid_from,
        row_number() over (partition by {{ key }} order by period_start) as version_number
    from version_starts
),

known as (
    select
        {{ surrogate_key([key, iso_date('valid_from')]) }} as {{ dimension.surrogate_key }},
        cast({{ key }} as {{ dbt.type_string() }}) as {{ key }},
        {% for attribute in dimension.attributes %}{{ 'coalesce(' ~ attribute ~ ', ' ~ shown_as[attribute] ~ ')' if attribute in shown_as else attribute }} as {{ attribute }},
        {% endfor %}valid_from,
        coalesce(next_valid_from, {{ end_of_time() }}) as valid_to,
        case when next_valid_from is null then true else false end as is_current,
        cast(version_number as integer) as version_number
    from versions
),

unknown_member as (
    select
        {{ unknown_member_key() }} as {{ dimension.surrogate_key }},
        {{ unknown_member_natural_key() }} as {{ key }},
        {% for attribute in dimension.attributes %}cast({{ unknown_values.get(attribute, "'Unknown'") }} as {{ dbt.type_string() }}) as {{ attribute }},
        {% endfor %}{{ start_of_time() }} as valid_from,
        {{ end_of_time() }} as valid_to,
        true as is_current,
        cast(1 as integer) as version_number
)

select * from known
union all
select * from unknown_member
{%- endmacro %}
