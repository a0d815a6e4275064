"""Indexes in the order the orders and guarantees lists read (PostgreSQL only).

Both lists are ordered newest first (`-created_at, -id`), and a page is found by its ids
first (`backoffice.list_search.LateRowPaginator`): with both columns in one index, the ids
of a page deep in the list are read from the index alone, not from every row skipped.
SQLite keeps its own plans: there the migration does nothing.
"""

from django.db import migrations

INDEXES = {
    "checkout_order_created_id": "checkout_order",
    "infinitepay_guarantee_created_id": "infinitepay_guarantee",
}


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} (created_at, id)")


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0001_company_search_index"),
        ("checkout", "0005_drop_debtor_data_columns"),
        ("infinitepay", "0010_staff_roles_read_events"),
    ]

    operations = [migrations.RunPython(create, drop)]
