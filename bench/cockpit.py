"""Benchmark the ops cockpit at scale: the dashboard, a guarantee's page with 20 calls, and the
searches of the orders and guarantees lists, with 100,000 orders.

    .venv/bin/python bench/cockpit.py                     # 100,000 orders, 15 fetches a page
    .venv/bin/python bench/cockpit.py --orders 20000 --runs 5

The data is bench/admin.py's (its `seed`: 2,000 companies, a year of orders, payments and
guarantees), plus three API calls per guarantee at its creation (so the dashboard's last 24
hours hold a day's calls) and one guarantee with 20 calls (request and response XML of a
real size), 5 events and 3 ops actions. Pages are fetched by a member of Payment ops
through Django's test Client with production settings (DEBUG off), as bench/admin.py does.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as harness  # noqa: E402

harness.configure("cockpit")
# bench/admin.py configures itself as it is imported; this run keeps its own database name.
admin_bench = harness.load_bench_module("admin")
harness.configure("cockpit")

from django.contrib.admin.models import CHANGE, LogEntry  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from checkout.models import Order  # noqa: E402
from infinitepay.events import Kind, record_event  # noqa: E402
from infinitepay.models import ApiCall, Guarantee  # noqa: E402
from infinitepay.states import State, Step  # noqa: E402
from tests.factories import StaffUserFactory  # noqa: E402

TARGET_MEDIAN_MS = 500
# The dashboard and a guarantee's page are read like a list: the lists' target.
COCKPIT_TARGET_MS = 300
CALLS_PER_GUARANTEE = [
    ("reserveOrder", Step.RESERVE),
    ("captureOrder", Step.CAPTURE),
    ("activateOrder", Step.ACTIVATE),
]
BATCH = 20_000
# About the size of a real Reserve request and its answer.
REQUEST_XML = (
    "<soap:Envelope>" + "<ITEM><SKU>PAPER</SKU><QTY>1</QTY></ITEM>" * 40 + "</soap:Envelope>"
)
RESPONSE_XML = "<soap:Envelope><RESPONSE><STATUS>1</STATUS>" + "<X/>" * 60 + "</RESPONSE>"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15, help="timed fetches per page")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    with harness.fresh_database():
        started = time.perf_counter()
        sample = admin_bench.seed(random.Random(args.seed), orders=args.orders)
        calls = add_calls()
        busy = busy_guarantee()
        with connection.cursor() as cursor:
            # The seed moved every row's created_at back: vacuum, as autovacuum would, so that
            # the indexes hold no entry of the rows as first written.
            cursor.execute("VACUUM ANALYZE")
        print(
            f"Ops cockpit: {Order.objects.count():,} orders, {Guarantee.objects.count():,} "
            f"guarantees, {calls:,} API calls (written in {time.perf_counter() - started:.0f} s); "
            f"Payment ops member, test Client, DEBUG off, PostgreSQL; {args.runs} fetches a page"
        )
        ops = StaffUserFactory(username="bench-ops")
        ops.groups.add(Group.objects.get(name="Payment ops"))
        client = Client()
        client.force_login(ops)
        medians = []
        for title, url in pages(sample, busy):
            median, line = admin_bench.measure(client, url, runs=args.runs)
            medians.append(median)
            print(f"  {title:48s} {line}")
        print(
            f"Target median ≤ {TARGET_MEDIAN_MS} ms per page: "
            f"{harness.verdict(max(medians) <= TARGET_MEDIAN_MS)} "
            f"(slowest median {max(medians):.0f} ms)"
        )
        cockpit = medians[:2]  # the dashboard and the guarantee page with 20 calls
        print(
            f"Dashboard and guarantee page median ≤ {COCKPIT_TARGET_MS} ms: "
            f"{harness.verdict(max(cockpit) <= COCKPIT_TARGET_MS)} "
            f"({cockpit[0]:.0f} ms, {cockpit[1]:.0f} ms)"
        )
        print("  the dashboard's slowest queries:")
        for line in slowest_queries(client, "/admin/dashboard/", count=4):
            print(f"    {line}")
        quiet = Guarantee.objects.filter(state=State.ACTIVATED).exclude(pk=busy.pk).first()
        assert quiet is not None
        few, many = (
            admin_bench.query_count(client, f"/admin/infinitepay/guarantee/{pk}/change/")
            for pk in (quiet.pk, busy.pk)
        )
        print(
            f"Guarantee page queries, 3 calls and 20 calls: {few} and {many}: "
            f"{harness.verdict(few == many)} (the same for any number of calls)"
        )
        print(f"  company-name search uses the trigram index: {uses_trigram_index(sample)}")
        print(f"Load average at the end: {harness.load_average()}")


def slowest_queries(client: Client, url: str, *, count: int) -> list[str]:
    """The page's slowest queries: their time and the start of their SQL."""
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    ranked = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:count]
    return [f"{float(q['time']) * 1000:5.1f} ms  {q['sql'][:110]}" for q in ranked]


def pages(sample: dict[str, str], busy: Guarantee) -> list[tuple[str, str]]:
    orders, guarantees = "/admin/checkout/order/", "/admin/infinitepay/guarantee/"
    company = sample["company"]
    part_of_name = company.split("+")[2]  # "Bench+Handels+1234+GmbH": the number
    return [
        ("Dashboard", "/admin/dashboard/"),
        ("Guarantee page, 20 calls, 5 events, 3 ops actions", f"{guarantees}{busy.pk}/change/"),
        ("  its progress answer (what the page polls)", f"{guarantees}{busy.pk}/progress/"),
        ("Orders: search a company name", f"{orders}?q={company}"),
        ("Orders: search part of a company name", f"{orders}?q={part_of_name}"),
        ("Orders: search a VAT ID", f"{orders}?q={sample['vat_id']}"),
        ("Orders: search an order number", f"{orders}?q={sample['number']}"),
        ("Guarantees: search a company name", f"{guarantees}?q={company}"),
        ("Guarantees: search a VAT ID", f"{guarantees}?q={sample['vat_id']}"),
        ("Guarantees: search an order number", f"{guarantees}?q={sample['number']}"),
    ]


def add_calls() -> int:
    """Three approved calls per guarantee, a few seconds after it was created."""
    rows = Guarantee.objects.values_list("pk", "created_at").order_by("pk")
    batch: list[ApiCall] = []
    written = 0
    for pk, created_at in rows.iterator(chunk_size=BATCH):
        for n, (operation, step) in enumerate(CALLS_PER_GUARANTEE):
            batch.append(
                ApiCall(
                    guarantee_id=pk,
                    operation=operation,
                    step=step,
                    attempt=1,
                    outcome=ApiCall.Outcome.APPROVED,
                    http_status=200,
                    provider_status="1",
                    duration_ms=120,
                    created_at=created_at + timedelta(seconds=2 * n + 1),
                )
            )
        if len(batch) >= BATCH:
            written += len(ApiCall.objects.bulk_create(batch))
            batch = []
    written += len(ApiCall.objects.bulk_create(batch))
    # auto_now_add wrote "now": put each call back at its guarantee's time.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE infinitepay_apicall c SET created_at = g.created_at "
            "+ (c.id % 3 * 2 + 1) * interval '1 second' "
            "FROM infinitepay_guarantee g WHERE g.id = c.guarantee_id"
        )
    return written


def busy_guarantee() -> Guarantee:
    """A guarantee with 20 calls (six failed Reserves, a retry, and more), events, ops actions."""
    guarantee = (
        Guarantee.objects.filter(state=State.ACTIVATED).select_related("payment__order").first()
    )
    ApiCall.objects.filter(guarantee=guarantee).delete()
    ApiCall.objects.bulk_create(
        ApiCall(
            guarantee=guarantee,
            operation="reserveOrder",
            step=Step.RESERVE,
            attempt=n % 6 + 1,
            outcome=ApiCall.Outcome.TRANSIENT if n < 17 else ApiCall.Outcome.APPROVED,
            url="https://test.infinitepay.de/ws/InfinitePayAPI",
            request_xml=REQUEST_XML,
            response_xml=RESPONSE_XML,
            http_status=503 if n < 17 else 200,
            error_messages=["HTTP 503"] if n < 17 else [],
            duration_ms=200,
            task_id=f"task-{n:04d}",
        )
        for n in range(20)
    )
    for n in range(5):
        record_event(guarantee_id=guarantee.pk, kind=Kind.STEP_FAILED, text=f"Failed {n}.")
    ops = StaffUserFactory(username="bench-ops-actor")
    content_type = ContentType.objects.get_for_model(Guarantee)
    LogEntry.objects.bulk_create(
        LogEntry(
            user=ops,
            content_type=content_type,
            object_id=str(guarantee.pk),
            object_repr=str(guarantee),
            action_flag=CHANGE,
            change_message="Retry requested.",
        )
        for _ in range(3)
    )
    return guarantee


def uses_trigram_index(sample: dict[str, str]) -> bool:
    """Whether PostgreSQL answers a company-name search with the trigram index."""
    from backoffice.list_search import matching_customers

    term = sample["company"].replace("+", " ")
    sql, params = matching_customers(term).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return "checkout_customer_name_trgm" in plan


if __name__ == "__main__":
    main()
