"""Benchmark the back office at scale: the orders and guarantees lists with 100,000 orders.

    .venv/bin/python bench/admin.py                      # or: make bench-admin
    .venv/bin/python bench/admin.py --orders 20000 --runs 5

A fresh PostgreSQL database (`bench_admin_<pid>`) gets `--orders` orders of 2,000 companies
(two lines each, a year of order dates), their payments (80 % InfinitePay, 20 % Payment
Term; mostly paid, some pending, declined, canceled) and the InfinitePay payments'
guarantees in the matching states (2 % RESERVED with a failed Capture beside the state),
written in batches with `bulk_create`, then ANALYZEd as autovacuum would. Each page is
fetched by a logged-in superuser through Django's test Client with production settings
(DEBUG off): the server time of the whole request (middleware, queries, template), measured
in the process, after one untimed fetch.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as harness  # noqa: E402

harness.configure("admin")

from django.conf import settings  # noqa: E402

# Production serves hashed static names from collectstatic's manifest; a page's cost is the
# same with plain names, and the benchmark need not collect static files first.
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from checkout.models import Buyer, Customer, Order, OrderLine, Payment  # noqa: E402
from infinitepay.models import Guarantee  # noqa: E402
from infinitepay.states import State, Step  # noqa: E402
from tests.factories import (  # noqa: E402
    InfinitePayIntegrationFactory,
    PaymentTermIntegrationFactory,
    StaffUserFactory,
)

TARGET_MEDIAN_MS = 300
# What an InfinitePay payment keeps of the buyer's checkout (its method data).
DEBTOR_DATA = {"debtor_email": "ap@example.com", "legal_form": "gmbh"}
COMPANIES = 2_000
BATCH = 5_000
# Payment status and, for InfinitePay, the guarantee's state and failed step (a failed step
# is a mark beside the state, which stays): (share, status, state, failed step).
OUTCOMES = [
    (0.70, Payment.Status.PAID_IN_FULL, State.ACTIVATED, ""),
    (0.18, Payment.Status.PENDING, State.RESERVED, ""),
    (0.02, Payment.Status.PENDING, State.RESERVED, Step.CAPTURE),
    (0.07, Payment.Status.DECLINED, State.DECLINED, ""),
    (0.03, Payment.Status.CANCELED, State.CANCELED, ""),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15, help="timed fetches per page")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    with harness.fresh_database():
        started = time.perf_counter()
        sample = seed(random.Random(args.seed), orders=args.orders)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(
            f"Back office lists: {Order.objects.count():,} orders, "
            f"{Guarantee.objects.count():,} guarantees, {COMPANIES:,} companies "
            f"(written in {time.perf_counter() - started:.0f} s); superuser, test Client, "
            f"DEBUG off, PostgreSQL; {args.runs} fetches per page"
        )
        client = Client()
        client.force_login(StaffUserFactory(username="bench-superuser", is_superuser=True))
        print(f"Load average at the start: {harness.load_average()}")
        medians = []
        for title, url in pages(sample):
            median, line = measure(client, url, runs=args.runs)
            medians.append(median)
            print(f"  {title:44s} {line}  {harness.verdict(median <= TARGET_MEDIAN_MS)}")
        met = sum(median <= TARGET_MEDIAN_MS for median in medians)
        print(
            f"Target median ≤ {TARGET_MEDIAN_MS} ms per page: "
            f"{harness.verdict(max(medians) <= TARGET_MEDIAN_MS)} "
            f"({met} of {len(medians)} pages; slowest median {max(medians):.0f} ms)"
        )
        print(f"Target constant query count: {constant_queries(client, sample)}")
        print(f"Load average at the end: {harness.load_average()}")


def pages(sample: dict[str, str]) -> list[tuple[str, str]]:
    orders, guarantees = "/admin/checkout/order/", "/admin/infinitepay/guarantee/"
    return [
        ("Orders: first page", orders),
        ("Orders: a page in the middle", f"{orders}?p={sample['order_page']}"),
        ("Orders: filter payment status Declined", f"{orders}?payment_status=declined"),
        ("Orders: filter by method and a month", f"{orders}?{sample['month_and_method']}"),
        ("Orders: search an order number", f"{orders}?q={sample['number']}"),
        ("Orders: search a company name", f"{orders}?q={sample['company']}"),
        ("Guarantees: first page", guarantees),
        ("Guarantees: a page in the middle", f"{guarantees}?p={sample['guarantee_page']}"),
        ("Guarantees: filter a step failed", f"{guarantees}?failed=yes"),
        (
            "Guarantees: a failed step and its reason",
            f"{guarantees}?failed=capture&reason=InfinitePay+failed+on+its+side",
        ),
        ("Dashboard (the ops' home)", "/admin/dashboard/"),
        ("Guarantees: filter step under way", f"{guarantees}?under_way=yes"),
        ("Guarantees: search a VAT ID", f"{guarantees}?q={sample['vat_id']}"),
        ("Guarantees: search an order number", f"{guarantees}?q={sample['number']}"),
    ]


def constant_queries(client: Client, sample: dict[str, str]) -> str:
    """Whether each list runs as many queries on its first page, deep in it and searched."""
    verdicts = []
    for name, urls in [
        ("orders", ["/admin/checkout/order/", f"/admin/checkout/order/?p={sample['order_page']}"]),
        (
            "guarantees",
            [
                "/admin/infinitepay/guarantee/",
                f"/admin/infinitepay/guarantee/?p={sample['guarantee_page']}",
            ],
        ),
    ]:
        counts = [query_count(client, url) for url in urls]
        verdicts.append(f"{name} {'/'.join(map(str, counts))}")
        if len(set(counts)) != 1:
            return f"{harness.verdict(False)} ({', '.join(verdicts)} queries)"
    return f"{harness.verdict(True)} ({', '.join(verdicts)} queries, first and deep page)"


def query_count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return len(queries)


def measure(client: Client, url: str, *, runs: int) -> tuple[float, str]:
    """Fetch a page once untimed, then `runs` times; its median and a line of figures.

    Beside the wall time (which a busy machine stretches), the CPU of a fetch: this process's
    (the server's work; the test Client's share is small) and the PostgreSQL backend's."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    count = len(queries)
    slowest = max(float(q["time"]) for q in queries.captured_queries) * 1000
    backend = harness.database_backend_pid()
    timings, cpu = [], []
    database_before = harness.cpu_seconds(backend)
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        client.get(url)
        cpu.append((time.process_time() - started_cpu) * 1000)
        timings.append((time.perf_counter() - started) * 1000)
    database = (harness.cpu_seconds(backend) - database_before) * 1000 / runs
    median = statistics.median(timings)
    return median, (
        f"median {median:6.1f} ms  p95 {harness.percentile(timings, 95):6.1f} ms  "
        f"CPU {statistics.median(cpu):5.1f} + PostgreSQL {database:5.1f} ms  "
        f"{count:2d} queries, slowest {slowest:5.1f} ms"
    )


def seed(rng: random.Random, *, orders: int) -> dict[str, str]:
    """Write the orders and everything the two lists show; return values to search for."""
    owner = StaffUserFactory(username="bench-admin")
    infinitepay = InfinitePayIntegrationFactory(
        default_owner=owner, auto_capture=True, auto_activation=True
    )
    payment_term = PaymentTermIntegrationFactory(default_owner=owner)
    customers = Customer.objects.bulk_create(
        Customer(name=f"Bench Handels {n} GmbH", vat_id=harness.german_vat_id(n))
        for n in range(COMPANIES)
    )
    password = make_password(harness.PASSWORD)
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bench-buyer-{n}", password=password) for n in range(COMPANIES)
    )
    buyers = Buyer.objects.bulk_create(
        Buyer(user=user, customer=customer) for user, customer in zip(users, customers, strict=True)
    )
    for first in range(0, orders, BATCH):
        numbers = range(first, min(first + BATCH, orders))
        write_batch(rng, numbers, buyers, infinitepay, payment_term)
    with connection.cursor() as cursor:
        # Orders spread over the last year (auto_now_add wrote "now" on every row).
        cursor.execute(
            "UPDATE checkout_order SET created_at = now() - (id % 365) * interval '1 day' "
            "- (id % 1440) * interval '1 minute'"
        )
        cursor.execute(
            "UPDATE infinitepay_guarantee g SET created_at = o.created_at FROM checkout_payment p "
            "JOIN checkout_order o ON o.id = p.order_id WHERE p.id = g.payment_id"
        )
    middle = Order.objects.order_by("pk")[orders // 2]
    month = timezone.localtime(middle.created_at)
    return {
        "number": middle.number,
        "company": middle.customer.name.replace(" ", "+"),
        "vat_id": middle.customer.vat_id,
        # Admin pages count from 0 in the URL and list 100 rows.
        "order_page": str(orders // 200),
        "guarantee_page": str(Guarantee.objects.count() // 200),
        "month_and_method": f"created_at__year={month.year}&created_at__month={month.month}"
        f"&payment_method={infinitepay.pk}",
    }


def write_batch(rng, numbers, buyers, infinitepay, payment_term) -> None:
    now = timezone.now()
    placed = []
    for n in numbers:
        buyer = buyers[rng.randrange(len(buyers))]
        net = Decimal(rng.randint(1_000, 500_000)) / 100
        vat = (net * Decimal("0.19")).quantize(Decimal("0.01"))
        address = {
            "organization": f"Company {buyer.customer_id}",
            "first_name": "Erika",
            "last_name": "Mustermann",
            "street": "Friedrichstraße 123",
            "postal_code": "10117",
            "city": "Berlin",
            "country": "DE",
            "region": "",
        }
        placed.append(
            Order(
                number=f"ORD-{n + 1:06d}",
                customer_id=buyer.customer_id,
                buyer=buyer,
                currency="EUR",
                billing_address=address,
                shipping_address=address,
                shipping_method="flat_rate",
                subtotal=net,
                discount=Decimal("0.00"),
                discount_gross=Decimal("0.00"),
                shipping=Decimal("9.90"),
                shipping_gross=Decimal("11.78"),
                shipping_vat_rate=Decimal("0.19"),
                vat_total=vat,
                vat_breakdown=[{"rate": "0.19", "taxable": str(net), "vat": str(vat)}],
                total=net + vat,
                buyer_ip="203.0.113.7",
                idempotency_key=uuid.uuid4(),
            )
        )
    placed = Order.objects.bulk_create(placed)
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            sku=sku,
            name=sku.title(),
            quantity=1,
            unit_price=order.subtotal / 2,
            vat_rate=Decimal("0.19"),
            net=order.subtotal / 2,
            vat=order.vat_total / 2,
            gross=order.total / 2,
        )
        for order in placed
        for sku in ("PAPER", "TONER")
    )
    outcomes = [pick_outcome(rng) for _ in placed]
    methods = [infinitepay if rng.random() < 0.8 else payment_term for _ in placed]
    payments = Payment.objects.bulk_create(
        Payment(
            order=order,
            method=integration.method_identifier,
            integration=integration,
            amount=order.total,
            currency="EUR",
            status=status,
            method_data=DEBTOR_DATA if integration == infinitepay else {},
        )
        for order, integration, (status, _, _) in zip(placed, methods, outcomes, strict=True)
    )
    for order, payment in zip(placed, payments, strict=True):
        order.current_payment = payment
    Order.objects.bulk_update(placed, ["current_payment"])
    Guarantee.objects.bulk_create(
        guarantee(payment, state, failed_step, infinitepay, now)
        for payment, (_, state, failed_step) in zip(payments, outcomes, strict=True)
        if payment.integration_id == infinitepay.pk
    )


def pick_outcome(rng: random.Random) -> tuple[Payment.Status, State, str]:
    roll = rng.random()
    for share, status, state, failed_step in OUTCOMES:
        if roll < share:
            return status, state, failed_step
        roll -= share
    return OUTCOMES[0][1:]


# Why the failed steps failed, as the pipeline stores it (infinitepay.wording): a few
# reasons, so the dashboard groups them.
FAILURE_REASONS = [
    "InfinitePay failed on its side",
    "InfinitePay could not be reached",
    "InfinitePay did not answer in time",
]


def guarantee(payment: Payment, state: State, failed_step: str, integration, now) -> Guarantee:
    failed = bool(failed_step)
    # Steps are asked for only where nothing failed: a failed step waits for ops.
    pending = state == State.RESERVED and not failed and payment.pk % 50 == 0
    return Guarantee(
        payment=payment,
        integration=integration,
        state=state,
        order_id=f"{payment.order.number}-P{payment.pk}",
        ref_no="" if state == State.DECLINED else f"REF-{payment.pk:08d}",
        guaranteed_amount=payment.amount if state == State.ACTIVATED else None,
        attempts=6 if failed else 0,
        failed_step=failed_step,
        failure_reason=FAILURE_REASONS[payment.pk % len(FAILURE_REASONS)] if failed else "",
        last_error_message="HTTP 503" if failed else "",
        pending_step=Step.CAPTURE if pending else "",
        pending_since=now - timedelta(minutes=2) if pending else None,
    )


if __name__ == "__main__":
    main()
