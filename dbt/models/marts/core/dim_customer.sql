with versions as (
    select * from {{ ref('int_customer_versions') }}
),

known as (
    select
        {{ surrogate_key(['customer_id', 'valid_from']) }} as customer_sk,
        versions.*
    from versions
),

unknown_member as (
    select
        {{ unknown_member_key() }} as customer_sk,
        'unknown' as customer_id,
        'Unknown' as customer_name,
        'Unknown' as segment,
        'Unknown' as city,
        'Unknown' as state,
        'Unknown' as country,
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
        customer_sk, customer_id, customer_name, segment, city, state, country,
        postal_code, market, region, valid_from, valid_to, is_current, version_number
    from known
    union all
    select
        customer_sk, customer_id, customer_name, segment, city, state, country,
        postal_code, market, region, valid_from, valid_to, is_current, version_number
    from unknown_member
)

select * from final
