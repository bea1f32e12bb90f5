{#- The first question analysts ask: how did each market and category do per
    month. Market is the line's own (the fact carries it from silver, where it is
    required), never a dimension's version: a place exported under two market
    labels would move sales between markets. Category is the product's category on
    the order date (point-in-time dim_product; 'Unknown' where silver has none). -#}
with facts as (
    select * from {{ ref('fact_sales') }}
),

calendar as (
    select date_key, first_day_of_month, year_month from {{ ref('dim_date') }}
),

products as (
    select product_sk, category from {{ ref('dim_product') }}
),

final as (
    select
        calendar.first_day_of_month as order_month,
        calendar.year_month,
        facts.market,
        products.category,
        sum(facts.sales) as sales,
        sum(facts.profit) as profit,
        cast(sum(facts.quantity) as {{ dbt.type_bigint() }}) as quantity,
        count(distinct facts.order_id) as orders,
        count(*) as order_lines,
        {{ decimal_ratio('sum(facts.profit)', 'sum(facts.sales)', 4) }} as margin
    from facts
    inner join calendar on calendar.date_key = facts.order_date_key
    inner join products on products.product_sk = facts.product_sk
    group by calendar.first_day_of_month, calendar.year_month, facts.market, products.category
)

select * from final
