with versions as (
    select * from {{ ref('int_product_versions') }}
),

known as (
    select
        {{ surrogate_key(['product_id', 'valid_from']) }} as product_sk,
        versions.*
    from versions
),

unknown_member as (
    select
        {{ unknown_member_key() }} as product_sk,
        'unknown' as product_id,
        'Unknown' as product_name,
        'Unknown' as category,
        'Unknown' as sub_category,
        {{ start_of_time() }} as valid_from,
        {{ end_of_time() }} as valid_to,
        true as is_current,
        1 as version_number
),

final as (
    select
        product_sk, product_id, product_name, category, sub_category,
        valid_from, valid_to, is_current, version_number
    from known
    union all
    select
        product_sk, product_id, product_name, category, sub_category,
        valid_from, valid_to, is_current, version_number
    from unknown_member
)

select * from final
