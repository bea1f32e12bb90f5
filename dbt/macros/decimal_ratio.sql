{#- Ratios of exact decimals (margin, average order value) with explicit decimal
    arithmetic, rounded half away from zero to `scale` places, typed
    decimal(38, scale): room for extreme values (a margin of -100,000 when sales are
    a cent), where decimal(9, 4) would overflow and fail the build. Null when the
    denominator is zero. -#}

{% macro decimal_ratio(numerator, denominator, scale) -%}
    {{ return(adapter.dispatch('decimal_ratio', 'sales_gold')(numerator, denominator, scale)) }}
{%- endmacro %}

{% macro default__decimal_ratio(numerator, denominator, scale) -%}
    {#- DuckDB divides decimals in floating point (DECIMAL / DECIMAL is a DOUBLE), so
        the quotient is taken over integers instead: both sides scaled by 10^10 (the
        money scale) to HUGEINTs, rounded integer division, then scaled back by a
        decimal multiplication (exact). -#}
    {%- set n = "cast(round(" ~ numerator ~ " * 10000000000) as hugeint)" -%}
    {%- set d = "cast(round(" ~ denominator ~ " * 10000000000) as hugeint)" -%}
    cast(
        case when {{ d }} = 0 then null
        else sign({{ n }}) * sign({{ d }})
            * ((2 * abs({{ n }}) * {{ 10 ** scale }} + abs({{ d }})) // (2 * abs({{ d }})))
            * cast('{{ '0.' ~ '0' * (scale - 1) ~ '1' }}' as decimal(38, {{ scale }}))
        end
    as decimal(38, {{ scale }}))
{%- endmacro %}

{% macro snowflake__decimal_ratio(numerator, denominator, scale) -%}
    {#- Snowflake divides NUMBERs exactly (the quotient keeps up to 12 more decimals
        than the dividend); round() rounds half away from zero. -#}
    cast(round({{ numerator }} / nullif({{ denominator }}, 0), {{ scale }}) as number(38, {{ scale }}))
{%- endmacro %}
