{% macro scd2_periods(dimension, relation, where=none) -%}
    {#- The attribute values a natural key carries, per PERIOD: the span between two
        confirmed changes of its tracked attributes, by business time (order date).
        One row per key, period and attribute set seen in it, with how many live rows
        carry it and when; `is_kept` marks the one the dimension shows. The versions
        are the runs of periods whose kept tracked values differ (macro
        scd2_dimension_versions); the periods with more than one value are the
        conflicts (dq_dimension_conflicts). Everything derives from the live silver
        rows of the key, so the result never depends on the order files arrived in.

        Rules (docs/gold.md, "SCD Type 2 rules"), W = var scd2_conflict_window_days:
          1. per key and order date, the day's attribute set is the one most live rows
             carry; ties: the most recently ingested, then by value (never by row_id,
             an export line number);
          2. a change of the day's TRACKED attributes from u to v on date d is
             confirmed (starts a period) unless u is seen again in (d, d + W] or v was
             already seen in [d - W, d): an alternation A -> B -> A within W days, or
             two values used side by side, is a conflict, not history;
          3. a period keeps the attribute set most of its rows carry (ties as in 1).

        Incremental: every row carries its key's fingerprint over the key's live rows
        (key_live_rows, key_last_ingested_at). Silver stamps every row it writes
        with its run's start time, later runs later, so a key whose fingerprint is
        unchanged has the same rows; only the other keys are derived again, from all
        their rows (delete+insert on the natural key). A key with no live row left
        gets one marker row (period_start null) that removes its periods; the
        post-hook scd2_delete_vanished_keys deletes the marker. derived_by_invocation
        is lineage: which dbt invocation derived the row. -#}
{%- set natural_key = dimension.natural_key -%}
{%- set attributes = dimension.attributes -%}
{%- set window_days = var('scd2_conflict_window_days') | int -%}
{#- The live rows as a subquery, not a CTE: DuckDB materializes a CTE that is
    referenced more than once, which would copy every row. -#}
{%- set live_rows -%}
    (
        select {{ natural_key }}, order_date, ingested_at, {{ attributes | join(', ') }}
        from {{ relation }}
        {% if where %}where {{ where }}{% endif %}
    )
{%- endset -%}
{%- set by_value -%}
    {% for attribute in attributes %}{{ attribute }} asc nulls last{% if not loop.last %}, {% endif %}{% endfor %}
{%- endset -%}
{%- set most_rows_first -%}
    value_rows desc, value_last_ingested_at desc nulls last, {{ by_value }}
{%- endset %}
with key_fingerprints as (
    select
        {{ natural_key }},
        count(*) as key_live_rows,
        max(ingested_at) as key_last_ingested_at
    from {{ live_rows }} as live_rows
    group by {{ natural_key }}
),

{% if is_incremental() %}

stored_keys as (
    select
        {{ natural_key }},
        max(key_live_rows) as stored_live_rows,
        max(key_last_ingested_at) as stored_last_ingested_at
    from {{ this }}
    group by {{ natural_key }}
),

changed_keys as (
    select key_fingerprints.{{ natural_key }}
    from key_fingerprints
    left join stored_keys
        on stored_keys.{{ natural_key }} = key_fingerprints.{{ natural_key }}
    where stored_keys.{{ natural_key }} is null
        or key_fingerprints.key_live_rows <> stored_keys.stored_live_rows
        or key_fingerprints.key_last_ingested_at <> stored_keys.stored_last_ingested_at
),

vanished_keys as (
    select stored_keys.{{ natural_key }}
    from stored_keys
    left join key_fingerprints
        on key_fingerprints.{{ natural_key }} = stored_keys.{{ natural_key }}
    where key_fingerprints.{{ natural_key }} is null
),

{% endif %}

day_values as (
    -- how many live rows carry each attribute set, per key and order date
    select
        live_rows.{{ natural_key }},
        live_rows.order_date,
        {% for attribute in attributes %}live_rows.{{ attribute }},
        {% endfor %}count(*) as value_rows,
        max(live_rows.ingested_at) as value_last_ingested_at
    from {{ live_rows }} as live_rows
    {% if is_incremental() %}
    inner join changed_keys on changed_keys.{{ natural_key }} = live_rows.{{ natural_key }}
    {% endif %}
    group by
        live_rows.{{ natural_key }},
        live_rows.order_date{% for attribute in attributes %},
        live_rows.{{ attribute }}{% endfor %}
),

hashed as (
    select
        day_values.*,
        {{ surrogate_key(dimension.tracked) }} as tracked_hash,
        {{ surrogate_key(attributes) }} as attributes_hash
    from day_values
),

tracked_sightings as (
    -- the days each tracked value was seen (winning its day or not), with the
    -- sightings around them
    select
        {{ natural_key }},
        tracked_hash,
        order_date,
        lag(order_date) over (
            partition by {{ natural_key }}, tracked_hash order by order_date
        ) as seen_before,
        lead(order_date) over (
            partition by {{ natural_key }}, tracked_hash order by order_date
        ) as seen_next,
        lead(order_date, 2) over (
            partition by {{ natural_key }}, tracked_hash order by order_date
        ) as seen_next_but_one
    from (select distinct {{ natural_key }}, tracked_hash, order_date from hashed) as sightings
),

daily as (
    -- rule 1: the day's attribute set
    select * from (
        select
            hashed.*,
            row_number() over (
                partition by {{ natural_key }}, order_date order by {{ most_rows_first }}
            ) as rank_in_day
        from hashed
    ) as ranked_in_day
    where rank_in_day = 1
),

compared as (
    select
        daily.{{ natural_key }},
        daily.order_date,
        daily.tracked_hash,
        sightings.seen_before,
        lag(daily.tracked_hash) over (
            partition by daily.{{ natural_key }} order by daily.order_date
        ) as previous_hash,
        lag(sightings.seen_next) over (
            partition by daily.{{ natural_key }} order by daily.order_date
        ) as previous_seen_next,
        lag(sightings.seen_next_but_one) over (
            partition by daily.{{ natural_key }} order by daily.order_date
        ) as previous_seen_next_but_one
    from daily
    inner join tracked_sightings as sightings
        on sightings.{{ natural_key }} = daily.{{ natural_key }}
        and sightings.tracked_hash = daily.tracked_hash
        and sightings.order_date = daily.order_date
),

period_starts as (
    -- rule 2
    select
        {{ natural_key }},
        order_date,
        case
            when previous_hash is null then 1
            when previous_hash = tracked_hash then 0
            -- the previous value is seen again after the change, within the window
            -- (its next sighting may be the change day itself: then the one after)
            when case when previous_seen_next = order_date then previous_seen_next_but_one
                      else previous_seen_next end
                <= {{ dbt.dateadd('day', window_days, 'order_date') }} then 0
            -- the new value was already seen before the change, within the window
            when seen_before >= {{ dbt.dateadd('day', -1 * window_days, 'order_date') }} then 0
            else 1
        end as starts_period
    from compared
),

day_periods as (
    select
        {{ natural_key }},
        order_date,
        sum(starts_period) over (
            partition by {{ natural_key }} order by order_date
            rows between unbounded preceding and current row
        ) as period_number
    from period_starts
),

period_values as (
    select
        hashed.{{ natural_key }},
        day_periods.period_number,
        {% for attribute in attributes %}hashed.{{ attribute }},
        {% endfor %}hashed.tracked_hash,
        hashed.attributes_hash,
        sum(hashed.value_rows) as value_rows,
        min(hashed.order_date) as first_seen,
        max(hashed.order_date) as last_seen,
        max(hashed.value_last_ingested_at) as value_last_ingested_at
    from hashed
    inner join day_periods
        on day_periods.{{ natural_key }} = hashed.{{ natural_key }}
        and day_periods.order_date = hashed.order_date
    group by
        hashed.{{ natural_key }},
        day_periods.period_number,
        {% for attribute in attributes %}hashed.{{ attribute }},
        {% endfor %}hashed.tracked_hash,
        hashed.attributes_hash
),

ranked as (
    -- rule 3
    select
        period_values.*,
        row_number() over (
            partition by {{ natural_key }}, period_number order by {{ most_rows_first }}
        ) as value_rank,
        min(first_seen) over (partition by {{ natural_key }}, period_number) as period_start,
        max(last_seen) over (partition by {{ natural_key }}, period_number) as period_end,
        count(*) over (partition by {{ natural_key }}, period_number) as period_values
    from period_values
),

final as (
    select
        ranked.{{ natural_key }},
        ranked.period_start,
        ranked.period_end,
        {% for attribute in attributes %}ranked.{{ attribute }},
        {% endfor %}ranked.tracked_hash,
        ranked.attributes_hash,
        cast(ranked.value_rows as {{ dbt.type_bigint() }}) as value_rows,
        ranked.first_seen,
        ranked.last_seen,
        case when ranked.value_rank = 1 then true else false end as is_kept,
        cast(ranked.period_values as integer) as period_values,
        key_fingerprints.key_live_rows,
        key_fingerprints.key_last_ingested_at,
        cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as derived_by_invocation
    from ranked
    inner join key_fingerprints
        on key_fingerprints.{{ natural_key }} = ranked.{{ natural_key }}
    {% if is_incremental() %}
    union all
    -- a key with no live row left: one marker row (period_start null), so
    -- delete+insert removes the key's periods; the post-hook deletes the marker
    select
        vanished_keys.{{ natural_key }},
        {% for _ in range(attributes | length + 12) %}null{% if not loop.last %}, {% endif %}{% endfor %}
    from vanished_keys
    {% endif %}
)

select * from final
{%- endmacro %}


{% macro scd2_delete_vanished_keys(target_relation) -%}
    {#- Post-hook of the incremental period models: deletes the marker rows
        (period_start null) that removed the periods of keys with no live row left.
        No-op on a full build. -#}
    delete from {{ target_relation }} where period_start is null
{%- endmacro %}
