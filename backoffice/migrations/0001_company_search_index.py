"""A trigram index on company names, for the back office's searches (PostgreSQL only).

The orders and guarantees lists look a search term up among the companies first
(`backoffice.list_search`): by VAT ID through its index, by name with
`UPPER(name) LIKE '%term%'`, which a trigram GIN index on that very expression answers
without reading every company. SQLite has no such index: there the migration does nothing.
"""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS checkout_customer_name_trgm "
    "ON checkout_customer USING gin ((UPPER(name::text)) gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS checkout_customer_name_trgm"]


def run(statements):
    def apply(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("checkout", "0002_bounded_input")]

    operations = [migrations.RunPython(run(CREATE), run(DROP))]
