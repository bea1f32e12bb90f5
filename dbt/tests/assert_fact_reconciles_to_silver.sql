{#- Gold equals silver: same order lines (live, i.e. not soft-deleted), same total
    sales and profit to the last decimal (all 10 places of silver's exact decimals). -#}
with silver as (
    select count(*) as order_lines, sum(sales) as sales, sum(profit) as profit
    from {{ ref('stg_silver__sales') }}
    where not is_deleted
),

gold as (
    select count(*) as order_lines, sum(sales) as sales, sum(profit) as profit
    from {{ ref('fact_sales') }}
)

select
    silver.order_lines as silver_order_lines,
    gold.order_lines as gold_order_lines,
    silver.sales as silver_sales,
    gold.sales as gold_sales,
    silver.profit as silver_profit,
    gold.profit as gold_profit
from silver
cross join gold
where silver.order_lines <> gold.order_lines
    or coalesce(silver.sales, 0) <> coalesce(gold.sales, 0)
    or coalesce(silver.profit, 0) <> coalesce(gold.profit, 0)
