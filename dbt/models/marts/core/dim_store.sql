with versions as (
    select * from {{ ref('int_store_versions') }}
),

known as (
    select
        {{ surrogate_key(['store_nk', 'valid_from']) }} as store_sk,
        versions.*
    from versions
),

unknown_member as (
    select
        {{ unknown_member_key() }} as store_sk,
        'unknown' as store_nk,
        'Unknown' as country,
        'Unknown' as state,
        'Unknown' as city,
        cast(null as {{ dbt.type_string() }}) as postal_code,
        'Unknown' as market,
        'Unknown' as region,
        {{ start_of_time() }} as valid_from,
        {{ end_of_time() }} as valid_to,
        true as is_current,
        1 as version_number
),

final as (
    select
        store_sk, store_nk, country, state, city, postal_code, market, region,
        valid_from, valid_to, is_current, version_number
    from known
    union all
    select
        store_sk, store_nk, country, state, city, postal_code, market, region,
        valid_from, valid_to, is_current, version_number
    from unknown_member
)

select * from final
