{#- One row per customer: who they are now (current dim version: name, segment) and
    what they bought over their whole history. -#}
with facts as (
    select * from {{ ref('fact_sales') }}
),

current_customers as (
    select * from {{ ref('dim_customer') }}
    where is_current and customer_sk <> {{ unknown_member_key() }}
),

version_counts as (
    select customer_id, count(*) as versions
    from {{ ref('dim_customer') }}
    group by customer_id
),

totals as (
    select
        customer_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        count(distinct order_id) as orders,
        count(*) as order_lines,
        cast(sum(quantity) as {{ dbt.type_bigint() }}) as quantity,
        sum(sales) as sales,
        sum(profit) as profit
    from facts
    group by customer_id
),

final as (
    select
        current_customers.customer_id,
        current_customers.customer_name,
        current_customers.segment,
        version_counts.versions as customer_versions,
        totals.first_order_date,
        totals.last_order_date,
        totals.orders,
        totals.order_lines,
        totals.quantity,
        totals.sales,
        totals.profit,
        -- ratios the file never held: 4 decimals, exact decimal arithmetic (the
        -- totals above are exact)
        {{ decimal_ratio('totals.profit', 'totals.sales', 4) }} as margin,
        {{ decimal_ratio('totals.sales', 'totals.orders', 4) }} as average_order_value
    from current_customers
    inner join totals on totals.customer_id = current_customers.customer_id
    inner join version_counts on version_counts.customer_id = current_customers.customer_id
)

select * from final
