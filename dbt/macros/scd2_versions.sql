{% macro scd2_versions(relation, natural_key, attributes, where=none) -%}
    {#- SCD Type 2 versions by BUSINESS time (order date), derived from the live
        silver rows of a natural key, so the result depends only on the rows and
        never on the order in which files arrived (a late file re-derives the same
        history a full rebuild gives).

        Rules: one attribute set per key and order date (the order line with the
        highest row_id that day wins: deterministic tie-break); a version starts on
        the first order date whose attribute set differs from the previous order
        date's; valid_from is inclusive, valid_to exclusive (= next version's
        valid_from, 9999-12-31 for the current version).

        Every version row also carries its key's fingerprint (key_live_rows,
        key_last_ingested_at over the key's live rows): what the incremental run
        compares to find the keys whose rows changed (scd2_change_scope), and the
        dbt invocation that derived it (derived_by_invocation, lineage: it shows
        which keys a run re-derived; the marts do not carry it). On a
        full build all keys are derived from all rows; on an incremental run only
        the changed keys, and for most of them only from the changed date on (see
        scd2_change_scope). The model replaces the changed keys' versions
        (delete+insert on the natural key); keys with no live row left are removed
        through a marker row that the post-hook scd2_delete_vanished_keys deletes. -#}
{#- The live rows as a subquery, not a CTE: DuckDB materializes a CTE that is
    referenced more than once, which would copy every row; a subquery is scanned
    with only the columns each use needs. -#}
{%- set live_rows -%}
    (
        select {{ natural_key }}, order_date, row_id, ingested_at,
            {{ attributes | join(', ') }}
        from {{ relation }}
        {% if where %}where {{ where }}{% endif %}
    )
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

{{ scd2_change_scope(natural_key, live_rows) }},

observations as (
    -- the changed keys' rows on and after the date their history may change
    select
        live_rows.{{ natural_key }},
        live_rows.order_date,
        live_rows.row_id,
        {% for attribute in attributes %}live_rows.{{ attribute }},
        {% endfor %}{{ surrogate_key(attributes) }} as attributes_hash
    from {{ live_rows }} as live_rows
    inner join change_scope
        on change_scope.{{ natural_key }} = live_rows.{{ natural_key }}
        and live_rows.order_date >= change_scope.recompute_from
    -- implied by the join; lets the engine drop older rows before joining
    where live_rows.order_date >= (select min(recompute_from) from change_scope)
    union all
    -- the version in force the day before, as one observation on its first day,
    -- so a recomputed history continues it (or closes it) correctly
    select
        seeds.{{ natural_key }},
        seeds.valid_from as order_date,
        cast(null as {{ dbt.type_bigint() }}) as row_id,
        {% for attribute in attributes %}seeds.{{ attribute }},
        {% endfor %}{{ surrogate_key(attributes) }} as attributes_hash
    from seeds
),

version_offsets as (
    -- version numbers continue from the seed's
    select
        change_scope.{{ natural_key }},
        coalesce(seeds.version_number - 1, 0) as version_offset
    from change_scope
    left join seeds on seeds.{{ natural_key }} = change_scope.{{ natural_key }}
),

{% else %}

observations as (
    select
        live_rows.*,
        {{ surrogate_key(attributes) }} as attributes_hash
    from {{ live_rows }} as live_rows
),

version_offsets as (
    select {{ natural_key }}, 0 as version_offset from key_fingerprints
),

{% endif %}

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
        ) as version_rank
    from version_starts
),

derived as (
    select
        windowed.{{ natural_key }},
        {% for attribute in attributes %}windowed.{{ attribute }},
        {% endfor %}windowed.order_date as valid_from,
        coalesce(windowed.next_version_from, {{ end_of_time() }}) as valid_to,
        case when windowed.next_version_from is null then true else false end as is_current,
        cast(version_offsets.version_offset + windowed.version_rank as integer) as version_number,
        cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as derived_by_invocation
    from windowed
    inner join version_offsets
        on version_offsets.{{ natural_key }} = windowed.{{ natural_key }}
),

{% if is_incremental() %}

versions as (
    select * from derived
    union all
    -- the changed keys' versions that ended before the seed: unchanged
    select
        kept.{{ natural_key }},
        {% for attribute in attributes %}kept.{{ attribute }},
        {% endfor %}kept.valid_from,
        kept.valid_to,
        kept.is_current,
        kept.version_number,
        kept.derived_by_invocation
    from {{ this }} as kept
    inner join change_scope
        on change_scope.{{ natural_key }} = kept.{{ natural_key }}
        and kept.valid_to < change_scope.recompute_from
),

{% else %}

versions as (
    select * from derived
),

{% endif %}

final as (
    select
        versions.*,
        key_fingerprints.key_live_rows,
        key_fingerprints.key_last_ingested_at
    from versions
    inner join key_fingerprints
        on key_fingerprints.{{ natural_key }} = versions.{{ natural_key }}
    {% if is_incremental() %}
    union all
    -- a key with no live row left (all soft-deleted or moved to another key): one
    -- marker row (valid_from null), so delete+insert removes the key's versions; the
    -- post-hook scd2_delete_vanished_keys deletes the markers
    select
        vanished_keys.{{ natural_key }},
        {% for attribute in attributes %}null,
        {% endfor %}null, null, null, null, null, null, null
    from vanished_keys
    {% endif %}
)

select * from final
{%- endmacro %}


{% macro scd2_change_scope(natural_key, live_rows) -%}
    {#- CTEs (after key_fingerprints) of the keys to re-derive and from which
        order date, and of the keys to remove. Silver stamps every row it writes (new, updated,
        soft-deleted) with its run's start time, later runs with later stamps, so a
        key's live rows with a stamp up to its stored key_last_ingested_at are the
        rows its stored versions were derived from, unchanged:
          - fingerprint (live rows, newest stamp) equal to the stored one: nothing
            changed for the key;
          - all stored rows still there (only additions): the history can change
            only from the first new order date on; the stored version in force the
            day before (the seed) is continued;
          - otherwise (a row moved away, was updated or deleted): the key's whole
            history is re-derived;
          - no live row left: the key is removed. -#}
stored_keys as (
    select
        {{ natural_key }},
        max(key_live_rows) as stored_live_rows,
        max(key_last_ingested_at) as stored_last_ingested_at
    from {{ this }}
    group by {{ natural_key }}
),

changed_keys as (
    select
        key_fingerprints.{{ natural_key }},
        key_fingerprints.key_live_rows,
        stored_keys.stored_live_rows,
        stored_keys.stored_last_ingested_at
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

change_scope as (
    -- additions only <=> the live rows minus the rows stamped after the stored
    -- fingerprint are exactly the stored rows; then re-derive from the first new
    -- order date, else (and for new keys) from the beginning
    select
        changed_keys.{{ natural_key }},
        case
            when changed_keys.key_live_rows - count(unseen_rows.order_date)
                = changed_keys.stored_live_rows
            then coalesce(min(unseen_rows.order_date), {{ start_of_time() }})
            else {{ start_of_time() }}
        end as recompute_from
    from changed_keys
    left join (
        select live_rows.{{ natural_key }}, live_rows.order_date, live_rows.ingested_at
        from {{ live_rows }} as live_rows
        where live_rows.ingested_at > (
            select min(stored_last_ingested_at) from changed_keys
        )
    ) as unseen_rows
        on unseen_rows.{{ natural_key }} = changed_keys.{{ natural_key }}
        and unseen_rows.ingested_at > changed_keys.stored_last_ingested_at
    group by
        changed_keys.{{ natural_key }},
        changed_keys.key_live_rows,
        changed_keys.stored_live_rows
),

seeds as (
    -- the stored version in force on the day before recompute_from
    select stored.*
    from {{ this }} as stored
    inner join change_scope
        on change_scope.{{ natural_key }} = stored.{{ natural_key }}
        and stored.valid_from < change_scope.recompute_from
        and stored.valid_to >= change_scope.recompute_from
)
{%- endmacro %}


{% macro scd2_delete_vanished_keys(target_relation) -%}
    {#- Post-hook of the incremental version models: deletes the marker rows
        (valid_from null) that removed the versions of keys with no live row left.
        No-op on a full build. -#}
    delete from {{ target_relation }} where valid_from is null
{%- endmacro %}
