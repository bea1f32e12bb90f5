{#- The aggregate marts lose nothing: their totals equal the fact's. -#}
with fact_totals as (
    select count(*) as order_lines, sum(sales) as sales, sum(profit) as profit,
        sum(quantity) as quantity
    from {{ ref('fact_sales') }}
),

monthly as (
    select sum(order_lines) as order_lines, sum(sales) as sales, sum(profit) as profit,
        sum(quantity) as quantity
    from {{ ref('agg_sales_by_month_market_category') }}
),

customers as (
    select sum(order_lines) as order_lines, sum(sales) as sales, sum(profit) as profit,
        sum(quantity) as quantity
    from {{ ref('agg_customer_summary') }}
),

compared as (
    select 'agg_sales_by_month_market_category' as model, monthly.order_lines,
        monthly.sales, monthly.profit, monthly.quantity
    from monthly
    union all
    select 'agg_customer_summary' as model, customers.order_lines,
        customers.sales, customers.profit, customers.quantity
    from customers
)

select compared.*
from compared
cross join fact_totals
where coalesce(compared.order_lines, 0) <> fact_totals.order_lines
    or coalesce(compared.sales, 0) <> coalesce(fact_totals.sales, 0)
    or coalesce(compared.profit, 0) <> coalesce(fact_totals.profit, 0)
    or coalesce(compared.quantity, 0) <> coalesce(fact_totals.quantity, 0)
