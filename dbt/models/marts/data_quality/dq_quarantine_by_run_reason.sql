{#- What silver rejected, per run and reason code (a record with several reasons
    counts under each), for the data-quality dashboard and the run report. -#}
with reasons as (
    {{ explode_array(ref('stg_silver__quarantine'), 'reason_codes', 'reason_code') }}
),

final as (
    select
        {{ surrogate_key(['run_id', 'reason_code']) }} as run_reason_key,
        run_id,
        reason_code,
        count(*) as records,
        count(distinct source_uri) as source_objects,
        min(quarantined_at) as first_quarantined_at,
        max(quarantined_at) as last_quarantined_at
    from reasons
    group by run_id, reason_code
)

select * from final
