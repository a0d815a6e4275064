"""Where a submit's and an order's pipeline CPU goes, in one process: statements and profile.

    .venv/bin/python bench/inprocess.py                      # 200 orders
    .venv/bin/python bench/inprocess.py --orders 500 --profile /tmp/prof

A fresh PostgreSQL database (`bench_inprocess_<pid>`) and the sandbox; no Celery worker, no
gunicorn (the broker is in memory: what is enqueued is dropped). With production settings:

1. **Submit**: each buyer walks the checkout with Django's test Client and POSTs Place
   order; the POST alone is measured: this process's CPU time (`time.process_time`), its
   wall time and its queries (`CaptureQueriesContext`).
2. **Pipeline**: `infinitepay.services.run_step` (what the task runs) takes each order from
   NEW to ACTIVATED (Reserve, Capture, Activate in one call); per order: this process's CPU,
   the PostgreSQL backend's CPU (from /proc), the statements, and the sandbox's CPU; and
   of that CPU, what `InfinitePayClient.call` took (building, sending and reading the three
   messages): the part no change to our recording can remove.

With `--profile DIR`, cProfile of both phases is written to DIR (`submit.prof`,
`pipeline.prof`) and the top functions by own time are printed. Not timed against targets:
the whole product, with Celery and gunicorn, is measured by bench/pipeline.py and
bench/checkout.py; this one says where their time goes.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import pstats
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as harness  # noqa: E402

harness.configure("inprocess", lock=False)

from django.conf import settings  # noqa: E402

# As bench/admin.py: plain static names, so no collectstatic is needed first.
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from infinitepay import services  # noqa: E402
from infinitepay.client import InfinitePayClient  # noqa: E402
from infinitepay.models import Guarantee  # noqa: E402
from infinitepay.states import State, Step  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--profile", type=Path, metavar="DIR")
    args = parser.parse_args()
    with harness.fresh_database(), contextlib.ExitStack() as stack:
        sandbox, sandbox_process = harness.start_sandbox(stack)
        settings.INFINITEPAY_TEST_URL = sandbox.url
        buyers = min(args.orders, 50)
        store = harness.seed_storefront(buyers=buyers)
        print(f"In-process: {args.orders} orders, {buyers} buyers; load {harness.load_average()}")
        submit(store, args)
        pipeline(args, sandbox_process.pid)
        print(f"Load average at the end: {harness.load_average()}")


def submit(store: harness.Storefront, args) -> None:
    clients = []
    for shopper in store.shoppers:
        client = Client()
        client.post(
            "/accounts/login/", {"username": shopper.username, "password": harness.PASSWORD}
        )
        clients.append((shopper, client))
    cpu, wall, queries = [], [], []
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    for n in range(args.orders):
        shopper, client = clients[n % len(clients)]
        form = prepare(client, shopper, store)
        with CaptureQueriesContext(connection) as captured:
            if profiler:
                profiler.enable()
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.post("/checkout/place-order/", form)
            cpu.append(time.process_time() - started_cpu)
            wall.append(time.perf_counter() - started)
            if profiler:
                profiler.disable()
        assert response.status_code == 302 and "/orders/ORD-" in response["Location"], response
        queries.append(len(captured))
    warm = slice(min(10, args.orders // 4), None)  # first submits compile templates etc.
    print(
        f"  submit (POST place-order, in-process): CPU median "
        f"{statistics.median(cpu[warm]) * 1000:.1f} ms, wall median "
        f"{statistics.median(wall[warm]) * 1000:.1f} ms, queries {sorted(set(queries[warm]))}"
    )
    print("    statements of the last submit:")
    for query in captured.captured_queries:
        print(f"      {query['time']}s {query['sql'][:150]}")
    if profiler:
        report(profiler, args.profile / "submit.prof")


def prepare(client: Client, shopper: harness.Shopper, store: harness.Storefront) -> dict:
    for path, data in harness.checkout_posts(shopper, store):
        response = client.post(path, data)
        assert response.status_code == 302, (path, response.content[:2000])
    review = client.get("/checkout/review/")
    return harness.place_order_form(review.content.decode())


def pipeline(args, sandbox_pid: int) -> None:
    ids = list(
        Guarantee.objects.filter(state=State.NEW).order_by("pk").values_list("pk", flat=True)
    )
    backend = harness.database_backend_pid()
    cpu, queries = [], []
    statements: Counter[str] = Counter()
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    backend_before = harness.cpu_seconds(backend)
    sandbox_before = harness.cpu_seconds(sandbox_pid)
    client_cpu = ClientMeter()
    for guarantee_id in ids:
        with CaptureQueriesContext(connection) as captured:
            if profiler:
                profiler.enable()
            started_cpu = time.process_time()
            with client_cpu:
                services.run_step(guarantee_id=guarantee_id, step=Step.RESERVE, task_id="inprocess")
            cpu.append(time.process_time() - started_cpu)
            if profiler:
                profiler.disable()
        queries.append(len(captured))
        statements.update(kind(q["sql"]) for q in captured.captured_queries)
    backend_cpu = harness.cpu_seconds(backend) - backend_before
    sandbox_cpu = harness.cpu_seconds(sandbox_pid) - sandbox_before
    activated = Guarantee.objects.filter(pk__in=ids, state=State.ACTIVATED).count()
    assert activated == len(ids), f"{activated} of {len(ids)} ACTIVATED"
    warm = slice(min(10, len(ids) // 4), None)
    n = len(ids)
    print(
        f"  pipeline (run_step, Reserve → Capture → Activate, in-process), per order: "
        f"CPU median {statistics.median(cpu[warm]) * 1000:.1f} ms (mean "
        f"{sum(cpu) / n * 1000:.1f}), PostgreSQL {backend_cpu / n * 1000:.1f} ms, sandbox "
        f"{sandbox_cpu / n * 1000:.1f} ms; statements {sorted(set(queries[warm]))}"
    )
    print(
        f"    of which the client's three calls (build, send, read): "
        f"{client_cpu.seconds / n * 1000:.1f} ms per order"
    )
    print(
        "    statements per order: " + ", ".join(f"{k} {v / n:.1f}" for k, v in statements.items())
    )
    print("    statements of the last order:")
    for query in captured.captured_queries:
        print(f"      {query['time']}s {query['sql'][:150]}")
    if profiler:
        report(profiler, args.profile / "pipeline.prof")


class ClientMeter:
    """This process's CPU inside `InfinitePayClient.call`, while the meter is entered."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.call = InfinitePayClient.call

    def __enter__(self) -> None:
        meter, call = self, self.call

        def timed(client, request):
            started = time.process_time()
            try:
                return call(client, request)
            finally:
                meter.seconds += time.process_time() - started

        InfinitePayClient.call = timed  # type: ignore[method-assign]

    def __exit__(self, *exc: object) -> None:
        InfinitePayClient.call = self.call  # type: ignore[method-assign]


def kind(sql: str) -> str:
    words = sql.split()
    head = " ".join(words[:2]) if words[0] in ("UPDATE", "INSERT", "DELETE") else words[0]
    if words[0] == "SELECT" and "FOR UPDATE" in sql:
        head = "SELECT FOR UPDATE"
    return head


def report(profiler: cProfile.Profile, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(path)
    stats = pstats.Stats(str(path))
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(60)


if __name__ == "__main__":
    main()
