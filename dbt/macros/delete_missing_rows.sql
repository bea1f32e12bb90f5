{% macro delete_rows_not_in(target_relation, key_column, source_relation, source_filter) -%}
    {#- Post-hook of the incremental fact: MERGE cannot delete, so rows whose silver
        row was soft-deleted (or is gone) are removed after the merge. A NOT IN
        anti-join on a non-null key: portable and one pass on each side. -#}
    delete from {{ target_relation }}
    where {{ key_column }} not in (
        select {{ key_column }} from {{ source_relation }} where {{ source_filter }}
    )
{%- endmacro %}
