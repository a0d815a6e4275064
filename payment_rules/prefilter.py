"""Step 2 of the evaluation: the database pre-filter.

Written as SQL rather than built with the ORM: this runs on every checkout page, and
composing the nested EXISTS subqueries through the ORM cost more time than running them.
The SQL is plain (EXISTS, ORDER BY, LIMIT) and runs as is on PostgreSQL and SQLite.
Table names come from the models, values are always bound parameters.

The conditions are written once, as fragments, and used two ways: as filters for checkout,
and as columns for the rule simulator, which must say why a rule was left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection

from .context import Address
from .models import PaymentRule, RuleDestination, RuleDestinationPostalCode, normalize_postal_code


@dataclass(frozen=True)
class RuleRow:
    id: int
    name: str
    sort_order: int
    currency: str
    enabled: bool
    stop_processing: bool
    expression: str
    # Only known when explaining; checkout asks for matching rules in the first place.
    currency_matches: bool = True
    destination_matches: bool = True


_COLUMNS = "r.id, r.name, r.sort_order, r.currency, r.enabled, r.stop_processing, r.expression"


def matching_rules(*, currency: str, billing_address: Address | None) -> list[RuleRow]:
    """Enabled rules of the currency whose destinations match, in evaluation order.

    Two indexed queries, whatever the number of rules. The first finds the first matching
    rule that stops processing and has no expression: it surely applies, so step 4 would
    cut off every rule after it, and the second query, the pre-filter proper, leaves them
    out. Given that bound as a value, the planner expects few rows and probes destinations
    per rule instead of hashing them all; with thousands of rules most are never read.
    """
    destination_sql, destination_params = _destination_condition(billing_address)
    rules = _table(PaymentRule)
    matching = f"r.currency = %s AND r.enabled AND {destination_sql}"
    params = [currency, *destination_params]
    sure_stop = _fetch(
        f"""SELECT r.sort_order, r.id FROM {rules} r
            WHERE {matching} AND r.stop_processing AND r.expression = ''
            ORDER BY r.sort_order, r.id LIMIT 1""",
        params,
    )
    bound = ""
    if sure_stop:
        bound = "AND (r.sort_order < %s OR (r.sort_order = %s AND r.id <= %s))"
        stop_sort_order, stop_id = sure_stop[0]
        params += [stop_sort_order, stop_sort_order, stop_id]
    sql = f"""SELECT {_COLUMNS} FROM {rules} r
              WHERE {matching} {bound}
              ORDER BY r.sort_order, r.id"""
    return [RuleRow(*_typed(row)) for row in _fetch(sql, params)]


def all_rules_explained(*, currency: str, billing_address: Address | None) -> list[RuleRow]:
    """Every rule in evaluation order, with whether its currency and destination match."""
    destination_sql, destination_params = _destination_condition(billing_address)
    sql = f"""
        SELECT {_COLUMNS},
               CASE WHEN r.currency = %s THEN 1 ELSE 0 END,
               CASE WHEN {destination_sql} THEN 1 ELSE 0 END
        FROM {_table(PaymentRule)} r
        ORDER BY r.sort_order, r.id
    """
    rows = _fetch(sql, [currency, *destination_params])
    return [RuleRow(*_typed(row[:7]), bool(row[7]), bool(row[8])) for row in rows]


def _destination_condition(address: Address | None) -> tuple[str, list[str]]:
    """No destinations, or one matching country, region (if set) and postal code (if listed).

    Without a billing address only rules without destinations match.
    """
    destinations = _table(RuleDestination)
    no_destinations = f"NOT EXISTS (SELECT 1 FROM {destinations} d WHERE d.rule_id = r.id)"
    if address is None or not address.country.strip():
        return no_destinations, []
    postal_codes = _table(RuleDestinationPostalCode)
    sql = f"""({no_destinations} OR EXISTS (
        SELECT 1 FROM {destinations} d
        WHERE d.rule_id = r.id AND d.country = %s AND (d.region = '' OR d.region = %s)
          AND (NOT EXISTS (SELECT 1 FROM {postal_codes} p WHERE p.destination_id = d.id)
               OR EXISTS (SELECT 1 FROM {postal_codes} p
                          WHERE p.destination_id = d.id AND p.postal_code = %s))
    ))"""
    params = [
        address.country.strip().upper(),
        address.region.strip().upper(),
        normalize_postal_code(address.postal_code),
    ]
    return sql, params


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _typed(row: tuple[Any, ...]) -> tuple[int, str, int, str, bool, bool, str]:
    # SQLite returns booleans as 0 and 1.
    rule_id, name, sort_order, currency, enabled, stop_processing, expression = row
    return rule_id, name, sort_order, currency, bool(enabled), bool(stop_processing), expression
