"""The claim of a step: mark it in flight for one worker, and read what its request needs.

One conditional UPDATE marks the step in flight only if it was asked for (or the worker that
had it vanished, its lease run out), so two workers never call for the same guarantee at
once. The claim then reads the guarantee with what the step's request is built from
(`StepSpec.claim_joins`).

Every order's pipeline starts with a claim, and it was the costliest statement of a step for
both sides (bench/inprocess.py, bench/pipeline.py --profile): so on PostgreSQL it is one
statement, prepared once per database session, whose SELECT is built once per session too.
SQLite keeps two plain statements.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from django.db import connection, connections
from django.db.models import F, Field, Q, QuerySet
from django.db.models.sql import Query
from django.db.models.sql.compiler import SQLCompiler

from backoffice.prepared import as_prepared

from .models import Guarantee
from .states import Step
from .steps import STEPS


def claim(
    guarantee_id: int, step: Step, *, now: datetime, lease_expired: datetime
) -> Guarantee | None:
    """The guarantee with the step's joins, now in flight for this worker; None when the
    step was not asked for, is under way or done, or the guarantee is gone."""
    if connection.vendor == "postgresql":
        return _claim_returning(guarantee_id, step, now=now, lease_expired=lease_expired)
    return _claim_then_read(guarantee_id, step, now=now, lease_expired=lease_expired)


def _claim_then_read(
    guarantee_id: int, step: Step, *, now: datetime, lease_expired: datetime
) -> Guarantee | None:
    """The claim in two statements: the conditional UPDATE, then the read (SQLite)."""
    asked_for = Q(pending_step=step, step_in_flight="")
    abandoned = Q(step_in_flight=step, in_flight_since__lt=lease_expired)
    candidates = Guarantee.objects.filter(asked_for | abandoned, pk=guarantee_id)
    if step != Step.CHECK_STATUS:
        # Only ops resume a failed step (Retry); check status may reconcile it.
        candidates = candidates.filter(failed_step="")
    claimed = candidates.update(
        step_in_flight=step,
        in_flight_since=now,
        pending_step="",
        pending_since=None,
        next_retry_at=None,
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    if not claimed:
        return None
    return Guarantee.objects.select_related(*STEPS[step].claim_joins).get(pk=guarantee_id)


def _claim_returning(
    guarantee_id: int, step: Step, *, now: datetime, lease_expired: datetime
) -> Guarantee | None:
    """The claim in one statement (PostgreSQL): the same conditional UPDATE, in a WITH
    clause named as the table, so that the ORM's SELECT of the guarantee and its joins reads
    the row the UPDATE returned. No row: not claimed. The conditional UPDATE, its row lock
    and its commit are the two-statement claim's."""
    query = _ClaimQuery(Guarantee)
    query.claim_update = (
        _update_sql(step),
        (str(step), now, now, guarantee_id, str(step), str(step), lease_expired),
    )
    claimed: QuerySet[Guarantee] = QuerySet(model=Guarantee, query=query)
    # The WITH clause holds the claimed row alone: no filter, no order, at most one row.
    for guarantee in claimed.select_related(*STEPS[step].claim_joins).order_by():
        return guarantee
    return None


@functools.cache
def _update_sql(step: Step) -> str:
    meta = Guarantee._meta
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        field = meta.get_field(name)
        assert isinstance(field, Field)
        return quote(field.column)

    step_in_flight, pending_step = column("step_in_flight"), column("pending_step")
    in_flight_since, attempts = column("in_flight_since"), column("attempts")
    update = (
        f"UPDATE {quote(meta.db_table)} SET {step_in_flight} = %s, {in_flight_since} = %s, "
        f"{pending_step} = '', {column('pending_since')} = NULL, "
        f"{column('next_retry_at')} = NULL, {attempts} = {attempts} + 1, "
        f"{column('updated_at')} = %s "
        f"WHERE {quote(meta.pk.column)} = %s AND (({pending_step} = %s AND {step_in_flight} = '')"
        f" OR ({step_in_flight} = %s AND {in_flight_since} < %s))"
    )
    if step != Step.CHECK_STATUS:
        # Only ops resume a failed step (Retry); check status may reconcile it.
        update += f" AND {column('failed_step')} = ''"
    return f"{update} RETURNING *"


class _ClaimQuery(Query):
    """A SELECT of guarantees preceded by the claim's `WITH <guarantee table> AS (UPDATE …
    RETURNING *)`: within the statement, the table's name stands for the claimed row."""

    claim_update: tuple[str, tuple[object, ...]] = ("", ())

    def get_compiler(
        self, using: str | None = None, connection: Any = None, elide_empty: bool = True
    ) -> Any:
        if using:
            connection = connections[using]
        # The same step's claim is the same SQL each time, its parameters apart: building
        # it (its columns, joins and the models they fill) was a fifth of a worker's CPU, so
        # it is built on a connection's first claim of the step, and its compiler kept on the
        # connection. A connection belongs to one thread: a compiler is never used by two
        # claims at once, and goes with its connection.
        compilers: dict[tuple[str, str], _ClaimCompiler] = connection.__dict__.setdefault(
            "infinitepay_claim_compilers", {}
        )
        key = (self.claim_update[0], repr(self.select_related))
        compiler = compilers.get(key)
        if compiler is None:
            # django-stubs lack SQLCompiler's fourth argument, which Django 5 passes.
            compiler = _ClaimCompiler(self, connection, using, elide_empty)  # type: ignore[call-arg]
            compilers[key] = compiler
        compiler.query = self  # this claim's parameters
        return compiler


class _ClaimCompiler(SQLCompiler):
    query: _ClaimQuery
    select_sql: tuple[str, Any] | None = None

    def as_sql(self, with_limits: bool = True, with_col_aliases: bool = False) -> Any:
        if self.select_sql is None:
            self.select_sql = super().as_sql(with_limits, with_col_aliases)
        sql, params = self.select_sql
        update, update_params = self.query.claim_update
        table = self.connection.ops.quote_name(Guarantee._meta.db_table)
        # Planning its eight-table join cost PostgreSQL five times what running it does.
        return as_prepared(
            self.connection, f"WITH {table} AS ({update}) {sql}", (*update_params, *params)
        )
