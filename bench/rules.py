"""Benchmark the payment rule evaluator: 10,000 rules, random checkouts, median and p95.

    .venv/bin/python bench/rules.py                      # SQLite (in a throwaway test database)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/backoffice .venv/bin/python bench/rules.py

The rules and checkouts are random but seeded, so runs compare. The rules are built in a
test database that is dropped afterwards; the project's own database is not touched. One
evaluation is one call of `payment_rules.selectors.applicable_methods`, timed from the
caller's side (queries, expressions and the union included), after a warm-up.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases  # noqa: E402

from infinitepay.models import InfinitePayIntegration  # noqa: E402
from payment_rules.context import Address, CheckoutContext, Customer, LineItem  # noqa: E402
from payment_rules.models import (  # noqa: E402
    PaymentRule,
    RuleDestination,
    RuleDestinationPostalCode,
    RuleMethod,
)
from payment_rules.selectors import applicable_methods  # noqa: E402
from payment_term.models import PaymentTermIntegration  # noqa: E402

CURRENCIES = ["EUR"] * 4 + ["USD"] * 2 + ["GBP", "CHF", "PLN", "SEK"]
COUNTRIES = [
    "DE",
    "AT",
    "NL",
    "FR",
    "BE",
    "LU",
    "IT",
    "ES",
    "PT",
    "PL",
    "CZ",
    "SK",
    "HU",
    "SI",
    "HR",
    "DK",
    "SE",
    "FI",
    "IE",
    "GR",
    "RO",
    "BG",
    "EE",
    "LV",
    "LT",
    "CH",
    "GB",
    "NO",
    "US",
    "CA",
]
REGIONS = {"DE": ["DE-BY", "DE-BE", "DE-HH", "DE-NW"], "AT": ["AT-9", "AT-4"], "FR": ["FR-IDF"]}
EXPRESSIONS = [
    "total > 500",
    "total > 5000",
    "subtotal >= 100 and subtotal < 10000",
    'billing_address.country == "DE"',
    'customer.vat_id != ""',
    "line_items.length <= 20",
    '[i for i in line_items if i.sku == "PALLET"].length > 0',
    'billing_address.postal_code.starts_with("8")',
    "shipping_address.country != billing_address.country",
    'not buyer.email.as_lower.ends_with("@example.com")',
    "total > 250 and total < 2500",
    "[i for i in line_items if i.quantity > 10].length == 0",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    # A database of its own: the test database name may be in use by a test run.
    connection.settings_dict["TEST"]["NAME"] = f"bench_rules_{os.getpid()}"
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        rng = random.Random(args.seed)
        started = time.perf_counter()
        build_rules(rng, args.rules)
        with connection.cursor() as cursor:
            # Fresh statistics, as autovacuum keeps them in production.
            cursor.execute("ANALYZE")
        built_in = time.perf_counter() - started
        report(rng, args.runs, built_in)
    finally:
        teardown_databases(old_config, verbosity=0)


def build_rules(rng: random.Random, count: int) -> None:
    owner = get_user_model().objects.create(username="bench", is_staff=True)
    integrations = []
    for n in range(6):
        model = InfinitePayIntegration if n % 2 else PaymentTermIntegration
        extra = {"client_reference": "C", "username": "u", "password": "p", "secret": "s"}
        integrations.append(
            model.objects.create(
                name=f"{model.type_key} {n}",
                label_en=f"Method {n}",
                short_label_en=f"M{n}",
                status="inactive" if n == 5 else "active",
                default_owner=owner,
                **(extra if model is InfinitePayIntegration else {}),
            )
        )
    rules = PaymentRule.objects.bulk_create(
        PaymentRule(
            name=f"Rule {n}",
            currency=rng.choice(CURRENCIES),
            enabled=rng.random() > 0.1,
            sort_order=rng.randint(0, 1000),
            stop_processing=rng.random() < 0.03,
            expression=rng.choice(EXPRESSIONS) if rng.random() < 0.3 else "",
        )
        for n in range(count)
    )
    destinations = []
    for rule in rules:
        if rng.random() < 0.3:
            continue  # everywhere
        for country in rng.sample(COUNTRIES, rng.randint(1, 3)):
            region = ""
            if country in REGIONS and rng.random() < 0.3:
                region = rng.choice(REGIONS[country])
            destinations.append(RuleDestination(rule=rule, country=country, region=region))
    RuleDestination.objects.bulk_create(destinations, batch_size=2000)
    RuleDestinationPostalCode.objects.bulk_create(
        (
            RuleDestinationPostalCode(destination=destination, postal_code=code)
            for destination in destinations
            if rng.random() < 0.1
            for code in {f"{rng.randint(10, 99)}{rng.randint(0, 999):03d}" for _ in range(3)}
        ),
        batch_size=2000,
    )
    RuleMethod.objects.bulk_create(
        (
            RuleMethod(rule=rule, integration=integration)
            for rule in rules
            for integration in rng.sample(integrations, rng.randint(1, 2))
        ),
        batch_size=2000,
    )


def random_checkout(rng: random.Random) -> CheckoutContext:
    country = rng.choice(COUNTRIES[:12])  # most checkouts come from the main markets
    billing = Address(
        country=country,
        region=rng.choice(REGIONS.get(country, [""])),
        postal_code=f"{rng.randint(10, 99)}{rng.randint(0, 999):03d}",
        city="Town",
    )
    items = tuple(
        LineItem(
            sku=rng.choice(["PALLET", "BOX", "CRATE"]),
            name="Item",
            quantity=rng.randint(1, 20),
            unit_price=Decimal(rng.randint(100, 50_000)) / 100,
            vat_rate=Decimal("0.19"),
        )
        for _ in range(rng.randint(1, 5))
    )
    subtotal = sum((item.net_total for item in items), Decimal(0))
    return CheckoutContext(
        currency=rng.choice(["EUR"] * 3 + ["USD", "GBP"]),
        billing_address=billing if rng.random() > 0.05 else None,
        shipping_address=billing,
        subtotal=subtotal,
        total=(subtotal * Decimal("1.19")).quantize(Decimal("0.01")),
        line_items=items,
        customer=Customer(name="ACME", vat_id="DE123456789" if rng.random() < 0.8 else ""),
    )


def report(rng: random.Random, runs: int, built_in: float) -> None:
    checkouts = [random_checkout(rng) for _ in range(runs)]
    for context in checkouts[:50]:  # warm-up: connections, statement caches, compiled rules
        applicable_methods(context=context)
    timings = []
    offered = 0
    for context in checkouts:
        started = time.perf_counter()
        offered += len(applicable_methods(context=context))
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        applicable_methods(context=checkouts[0])
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"database:      {connection.vendor}")
    print(f"rules:         {PaymentRule.objects.count():,} (built in {built_in:.1f} s)")
    print(f"destinations:  {RuleDestination.objects.count():,}")
    print(f"evaluations:   {runs:,}, {offered / runs:.1f} methods offered on average")
    print(f"queries:       {len(queries)} per evaluation")
    print(f"median:        {statistics.median(timings):.2f} ms")
    print(f"p95:           {p95:.2f} ms")
    print(f"max:           {timings[-1]:.2f} ms")


if __name__ == "__main__":
    main()
