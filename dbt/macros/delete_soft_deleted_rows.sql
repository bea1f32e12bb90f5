{% macro delete_soft_deleted_rows(target_relation, staged_relation) -%}
    {#- Post-hook of the incremental fact: MERGE cannot delete, so the lines whose
        silver row is soft-deleted are removed after the merge (a semi-join with the
        deleted row ids; portable). -#}
    delete from {{ target_relation }}
    where row_id in (select row_id from {{ staged_relation }} where is_deleted)
{%- endmacro %}
