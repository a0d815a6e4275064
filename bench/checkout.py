"""Benchmark checkout submit: concurrent buyers place orders through gunicorn; the POST's latency.

    .venv/bin/python bench/checkout.py                   # or: make bench-checkout
    .venv/bin/python bench/checkout.py --buyers 40 --rounds 20 --latency-ms 1000

A fresh PostgreSQL database (`bench_checkout_<pid>`), Redis db 7, the sandbox, one Celery
worker (thread pool) and gunicorn (gthread), all as subprocesses on free ports, with
production settings (DEBUG off). Each buyer is a thread with its own session: it logs in
once, then in every round fills its cart and walks billing, shipping, shipping method,
payment (InfinitePay, with Debtor Data) and review over HTTP (not timed); when every buyer
is at the review, they all POST "Place order" within `--spread-ms` (each at a random moment:
24 buyers in 1 s is 24 orders per second) and that POST alone is timed, from the client,
until its redirect to the order page arrives. A last background run sends all the submits
of a round at the same instant: the worst case, printed for comparison.

The run is made twice: with the guarantee calls in the background (the product), and with
CELERY_TASK_ALWAYS_EAGER=true, which makes Reserve, Capture and Activate inside the request,
the way OroCommerce calls InfinitePay at checkout. Each with no sandbox latency and with
`--latency-ms` on every call. In the background runs, the script waits until the worker has
taken every order to ACTIVATED, so each run starts with an idle pipeline.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as harness  # noqa: E402

harness.configure("checkout")

from infinitepay.models import Guarantee  # noqa: E402
from infinitepay.states import State  # noqa: E402
from sandbox.faults import FaultKind  # noqa: E402

TARGET_P95_MS = 150
TARGET_CPU_MS = 15
TARGET_RATIO = 1.2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buyers", type=int, default=24, help="buyers submitting at once")
    parser.add_argument("--rounds", type=int, default=10, help="orders per buyer and run")
    parser.add_argument("--eager-rounds", type=int, default=3, help="the same, in eager mode")
    parser.add_argument("--warmup-rounds", type=int, default=2, help="untimed, first")
    parser.add_argument("--latency-ms", type=int, default=1000, help="sandbox latency per call")
    parser.add_argument(
        "--spread-ms", type=int, default=1000, help="each round's submits spread over this"
    )
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn processes")
    parser.add_argument("--web-threads", type=int, default=8, help="threads per process")
    parser.add_argument("--worker-threads", type=int, default=32, help="Celery worker threads")
    args = parser.parse_args()

    with harness.fresh_database(), contextlib.ExitStack() as stack:
        store = harness.seed_storefront(buyers=args.buyers)
        sandbox, _ = harness.start_sandbox(stack)
        env = harness.product_env(sandbox.url)
        harness.start_worker(stack, env=env, concurrency=args.worker_threads, name="worker")
        print(
            f"Checkout submit: {args.buyers} buyers, each round all POST place-order within "
            f"{args.spread_ms} ms; gunicorn {args.web_workers} workers × "
            f"{args.web_threads} threads (gthread), 1 Celery worker × {args.worker_threads} "
            f"threads; PostgreSQL, Redis; 2 lines per order"
        )
        print(f"Load average at the start: {harness.load_average()}")
        figures: dict[tuple[bool, int], list[float]] = {}
        cpu_ms: dict[tuple[bool, int], float] = {}
        for eager in (False, True):
            with contextlib.ExitStack() as web:
                base_url, server = harness.start_gunicorn(
                    web,
                    env={**env, "CELERY_TASK_ALWAYS_EAGER": "true" if eager else "false"},
                    workers=args.web_workers,
                    threads=args.web_threads,
                )
                buyers = [Shopper(base_url, shopper, store) for shopper in store.shoppers]
                for buyer in buyers:
                    web.callback(buyer.close)
                with ThreadPoolExecutor(max_workers=8) as pool:
                    list(pool.map(Shopper.log_in, buyers))
                # Untimed: every gunicorn process imports, connects and compiles once.
                run_rounds(buyers, rounds=args.warmup_rounds, spread_ms=0, server=server)
                if not eager:
                    wait_for_pipeline()
                for latency_ms in (0, args.latency_ms):
                    if latency_ms:
                        sandbox.set_faults(
                            rate=1.0, kinds=[FaultKind.LATENCY], latency_ms=latency_ms
                        )
                    else:
                        sandbox.no_faults()
                    rounds = args.eager_rounds if eager else args.rounds
                    durations, cpu = run_rounds(
                        buyers, rounds=rounds, spread_ms=args.spread_ms, server=server
                    )
                    figures[(eager, latency_ms)] = durations
                    cpu_ms[(eager, latency_ms)] = cpu * 1000
                    where = "in the request (eager)" if eager else "in the background     "
                    print(f"  calls {where}, latency {latency_ms:4d} ms: {summary(durations)}")
                    print(f"    server CPU per submit: {cpu * 1000:.1f} ms (gunicorn's processes)")
                    if not eager:
                        drained_in = wait_for_pipeline()
                        print(f"    every order ACTIVATED {drained_in:.1f} s after the last submit")
                if not eager and args.spread_ms:
                    sandbox.no_faults()
                    burst, _ = run_rounds(buyers, rounds=args.rounds, spread_ms=0, server=server)
                    print(f"  worst case, all {args.buyers} at one instant: {summary(burst)}")
                    wait_for_pipeline()
        report(figures, cpu_ms, latency_ms=args.latency_ms)


class Shopper:
    """One buyer's browser: a session cookie and the checkout walked over HTTP."""

    def __init__(self, base_url: str, shopper: harness.Shopper, store: harness.Storefront):
        self.shopper = shopper
        self.store = store
        self.http = httpx.Client(base_url=base_url, timeout=120)

    def log_in(self) -> None:
        self.http.get("/accounts/login/").raise_for_status()
        self._post(
            "/accounts/login/",
            {"username": self.shopper.username, "password": harness.PASSWORD},
        )

    def prepare(self) -> dict[str, str]:
        """Fill the cart and walk the checkout up to the review; return the Place order form."""
        for path, data in harness.checkout_posts(self.shopper, self.store):
            self._post(path, data)
        review = self.http.get("/checkout/review/")
        review.raise_for_status()
        return harness.place_order_form(review.text)

    def place_order(self, form: dict[str, str]) -> float:
        """POST place-order; return the seconds until the redirect to the order page."""
        started = time.perf_counter()
        location = self._post("/checkout/place-order/", form)
        elapsed = time.perf_counter() - started
        if not location.startswith("/orders/ORD-"):
            raise SystemExit(f"{self.shopper.username}: place order went to {location}")
        return elapsed

    def close(self) -> None:
        self.http.close()

    def _post(self, path: str, data: dict[str, str]) -> str:
        data = {**data, "csrfmiddlewaretoken": self.http.cookies.get("csrftoken", "")}
        response = self.http.post(path, data=data)
        if response.status_code != 302:
            raise SystemExit(
                f"{self.shopper.username}: POST {path} answered {response.status_code}:\n"
                f"{response.text[:2000]}"
            )
        return response.headers["location"]


def run_rounds(
    buyers: list[Shopper], *, rounds: int, spread_ms: int, server: harness.Process
) -> tuple[list[float], float]:
    """Each round: every buyer prepares a cart, then all submit together; the submits' times,
    and the server's CPU per submit: what gunicorn's processes used while only the submits
    were under way (from every buyer ready to the last answer), divided by the submits."""
    windows = {"open": 0.0, "used": 0.0, "count": 0}

    def window() -> None:  # run by the barrier once all buyers reach it
        windows["count"] += 1
        if windows["count"] % 2:  # every cart is ready: the submits start
            windows["open"] = harness.tree_cpu_seconds(server.pid)
        else:  # every submit is back
            windows["used"] += harness.tree_cpu_seconds(server.pid) - windows["open"]

    ready = threading.Barrier(len(buyers), action=window)
    durations: list[float] = []
    lock = threading.Lock()

    def shop(buyer: Shopper) -> None:
        try:
            for _ in range(rounds):
                form = buyer.prepare()
                ready.wait()
                if spread_ms:
                    time.sleep(random.uniform(0, spread_ms / 1000))
                elapsed = buyer.place_order(form)
                with lock:
                    durations.append(elapsed)
                ready.wait()  # the next carts are filled only after every submit is back
        except BaseException:
            ready.abort()  # the other buyers stop waiting for this one
            raise

    with ThreadPoolExecutor(max_workers=len(buyers)) as pool:
        futures = [pool.submit(shop, buyer) for buyer in buyers]
    errors = [f.exception() for f in futures if f.exception() is not None]
    causes = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
    if errors:
        raise (causes or errors)[0]
    return durations, windows["used"] / len(durations)


def wait_for_pipeline(timeout: float = 300) -> float:
    """Wait until no guarantee is short of ACTIVATED; return how long that took."""
    started = time.perf_counter()
    while Guarantee.objects.exclude(state=State.ACTIVATED).exists():
        if time.perf_counter() - started > timeout:
            states = Guarantee.objects.exclude(state=State.ACTIVATED).values_list("state")
            raise SystemExit(f"the pipeline did not finish: {sorted(set(states))}")
        time.sleep(0.2)
    return time.perf_counter() - started


def summary(durations: list[float]) -> str:
    return harness.summary_ms(durations)


def report(
    figures: dict[tuple[bool, int], list[float]],
    cpu_ms: dict[tuple[bool, int], float],
    *,
    latency_ms: int,
) -> None:
    p95 = {key: harness.percentile(values, 95) * 1000 for key, values in figures.items()}
    calm, slow = p95[(False, 0)], p95[(False, latency_ms)]
    ratio = slow / calm
    print(
        f"Target p95 ≤ {TARGET_P95_MS} ms: {harness.verdict(max(calm, slow) <= TARGET_P95_MS)} "
        f"(p95 {calm:.1f} ms; {slow:.1f} ms with {latency_ms} ms latency)"
    )
    cpu = max(cpu_ms[(False, 0)], cpu_ms[(False, latency_ms)])
    print(
        f"Target server CPU per submit ≤ {TARGET_CPU_MS} ms: "
        f"{harness.verdict(cpu <= TARGET_CPU_MS)} ({cpu_ms[(False, 0)]:.1f} ms; "
        f"{cpu_ms[(False, latency_ms)]:.1f} ms with {latency_ms} ms latency)"
    )
    print(
        f"Target: {latency_ms} ms of latency at most {TARGET_RATIO}× the p95: "
        f"{harness.verdict(ratio <= TARGET_RATIO)} ({ratio:.2f}×)"
    )
    eager = p95[(True, latency_ms)]
    print(f"Eager mode (calls in the request): p95 {eager:.0f} ms, {eager / slow:.0f}× the product")
    print(f"Load average at the end: {harness.load_average()}")


if __name__ == "__main__":
    main()
