{#- The calendar, whole years from the first order date to the last ship date.
    The spine is cut from a fixed window (vars calendar_start/calendar_end) so no
    compile-time query depends on the data; the relationships tests on the fact's
    date keys fail if data ever falls outside it. -#}
with spine as (
    {{ dbt.date_spine(
        'day',
        "cast('" ~ var('calendar_start') ~ "' as date)",
        "cast('" ~ var('calendar_end') ~ "' as date)"
    ) }}
),

data_span as (
    select
        extract(year from min(order_date)) as first_year,
        extract(year from max(ship_date)) as last_year
    from {{ ref('stg_silver__sales') }}
    where not is_deleted
),

days as (
    select cast(spine.date_day as date) as date_day
    from spine
    cross join data_span
    where extract(year from spine.date_day) between data_span.first_year and data_span.last_year
),

attributes as (
    select
        {{ date_key('date_day') }} as date_key,
        date_day,
        cast(extract(year from date_day) as integer) as year_number,
        cast(extract(quarter from date_day) as integer) as quarter_number,
        cast(extract(month from date_day) as integer) as month_number,
        cast(extract(day from date_day) as integer) as day_of_month,
        cast({{ day_of_week_iso('date_day') }} as integer) as day_of_week_iso,
        cast({{ week_of_year_iso('date_day') }} as integer) as week_of_year_iso,
        cast({{ dbt.datediff(dbt.date_trunc('year', 'date_day'), 'date_day', 'day') }} + 1
            as integer) as day_of_year,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as first_day_of_month,
        cast({{ dbt.last_day('date_day', 'month') }} as date) as last_day_of_month,
        cast({{ dbt.date_trunc('quarter', 'date_day') }} as date) as first_day_of_quarter
    from days
),

final as (
    select
        attributes.*,
        case month_number
            when 1 then 'January' when 2 then 'February' when 3 then 'March'
            when 4 then 'April' when 5 then 'May' when 6 then 'June'
            when 7 then 'July' when 8 then 'August' when 9 then 'September'
            when 10 then 'October' when 11 then 'November' else 'December'
        end as month_name,
        case day_of_week_iso
            when 1 then 'Monday' when 2 then 'Tuesday' when 3 then 'Wednesday'
            when 4 then 'Thursday' when 5 then 'Friday' when 6 then 'Saturday'
            else 'Sunday'
        end as day_name,
        {{ dbt.concat([
            "cast(year_number as " ~ dbt.type_string() ~ ")",
            "'-'",
            "lpad(cast(month_number as " ~ dbt.type_string() ~ "), 2, '0')"
        ]) }} as year_month,
        {{ dbt.concat([
            "cast(year_number as " ~ dbt.type_string() ~ ")",
            "'-Q'",
            "cast(quarter_number as " ~ dbt.type_string() ~ ")"
        ]) }} as year_quarter,
        case when day_of_week_iso in (6, 7) then true else false end as is_weekend
    from attributes
)

select * from final
