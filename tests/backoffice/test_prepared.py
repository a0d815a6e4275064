from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from backoffice.prepared import as_prepared

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


def run(sql: str, params: tuple[object, ...]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(*as_prepared(connection, sql, params))
        return cursor.fetchall()


def statements(captured: CaptureQueriesContext) -> list[str]:
    return [query["sql"].split()[0] for query in captured.captured_queries]


@on_postgresql
@pytest.mark.django_db
def test_a_statement_is_prepared_once_per_session_and_answers_as_it_would_unprepared():
    sql = "SELECT %s::int + %s::int, '100%%', %s::text"
    with CaptureQueriesContext(connection) as first:
        assert run(sql, (1, 2, "a")) == [(3, "100%", "a")]
    with CaptureQueriesContext(connection) as second:
        assert run(sql, (40, 2, "it's")) == [(42, "100%", "it's")]
    assert statements(first) == ["PREPARE", "EXECUTE"]
    assert statements(second) == ["EXECUTE"]


@on_postgresql
@pytest.mark.django_db
def test_each_statement_text_has_its_own_prepared_statement():
    assert run("SELECT %s::int", (1,)) == [(1,)]
    with CaptureQueriesContext(connection) as other:
        assert run("SELECT %s::int * 2", (4,)) == [(8,)]
    assert statements(other) == ["PREPARE", "EXECUTE"]


@on_postgresql
@pytest.mark.django_db
def test_a_statement_without_parameters():
    assert run("SELECT 7", ()) == [(7,)]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_new_session_prepares_again():
    sql = "SELECT %s::int + 1"
    assert run(sql, (1,)) == [(2,)]
    connection.close()  # the session, and its prepared statements, are gone
    with CaptureQueriesContext(connection) as again:
        assert run(sql, (2,)) == [(3,)]
    assert statements(again) == ["PREPARE", "EXECUTE"]


@on_postgresql
@pytest.mark.django_db
def test_a_prepared_statement_outlives_a_rolled_back_transaction():
    sql = "SELECT %s::int - 1"
    with pytest.raises(RuntimeError), transaction.atomic():
        assert run(sql, (5,)) == [(4,)]
        raise RuntimeError("roll back")
    assert run(sql, (6,)) == [(5,)]


def test_other_databases_run_the_statement_as_it_is():
    sqlite = SimpleNamespace(vendor="sqlite")
    assert as_prepared(sqlite, "SELECT %s, '5%%'", [1]) == ("SELECT %s, '5%%'", (1,))  # type: ignore[arg-type]


@on_postgresql
@pytest.mark.django_db
def test_prepared_statements_can_be_turned_off_for_a_session_sharing_proxy(settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    sql = "SELECT %s::int * 3"
    assert as_prepared(connection, sql, [2]) == (sql, (2,))
    with CaptureQueriesContext(connection) as captured:
        assert run(sql, (2,)) == [(6,)]
    assert statements(captured) == ["SELECT"]
