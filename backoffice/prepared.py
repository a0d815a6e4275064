"""A hot statement planned once per database session: SQL `PREPARE`, then `EXECUTE`.

PostgreSQL plans every statement it is sent. For a statement with many joins that runs for
every guarantee (the pipeline's claim reads the guarantee with seven tables), planning costs
several times what executing it does. A prepared statement is planned at most a few times
per session and then reuses its plan.

The SQL-level `PREPARE` goes through Django's cursor like any statement (query logging,
execute wrappers and tests see it), unlike psycopg's protocol-level preparing, which Django
turns off. A prepared statement lives as long as the database session and is not undone by
a rollback; a session that is closed takes its statements with it, and a new one prepares
them again. A proxy that shares server sessions between clients (PgBouncer in transaction
mode) cannot carry them: `DATABASE_PREPARED_STATEMENTS=false` runs the statements as they are.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper

# The names prepared in each open database session, by its driver connection.
_prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
_PLACEHOLDER = re.compile(r"%s|%%")


def as_prepared(
    connection: BaseDatabaseWrapper, sql: str, params: Sequence[object]
) -> tuple[str, tuple[object, ...]]:
    """The `EXECUTE` that runs `sql` (with Django's `%s` placeholders) as a prepared
    statement of this session, preparing it first if the session has not yet.

    Only on PostgreSQL, and unless `DATABASE_PREPARED_STATEMENTS` is off; otherwise `sql`
    comes back as it is.
    """
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        return sql, tuple(params)
    connection.ensure_connection()
    names = _prepared.setdefault(connection.connection, set())
    # Named by its text: a changed statement (another step's joins, a new release) is
    # prepared under a name of its own.
    name = "stmt_" + hashlib.sha1(sql.encode(), usedforsecurity=False).hexdigest()[:16]
    if name not in names:
        numbered = iter(range(1, len(params) + 1))
        body = _PLACEHOLDER.sub(lambda m: f"${next(numbered)}" if m[0] == "%s" else "%", sql)
        with connection.cursor() as cursor:
            cursor.execute(f"PREPARE {name} AS {body}")
        names.add(name)
    if not params:
        return f"EXECUTE {name}", ()
    return f"EXECUTE {name}({', '.join(['%s'] * len(params))})", tuple(params)
