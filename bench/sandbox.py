"""Benchmark the InfinitePay client against the sandbox, both on this machine.

    .venv/bin/python bench/sandbox.py [--calls 2000] [--concurrency 16]
                                      [--in-flight 250] [--latency-ms 500] [--url URL]

1. Throughput: `--calls` Reserve calls (distinct orders) from `--concurrency` threads (a
   Celery worker's thread pool), no faults: calls per second served, end to end.
2. Fan-out: `--in-flight` Check status calls at once, each held `--latency-ms` by the
   sandbox's latency fault: the wall time, and the most calls the sandbox held at once.
   Served concurrently this takes about one latency; serialized it would take
   in-flight × latency.

The sandbox runs in its own process (`python -m sandbox`), as in development,
unless `--url` points at one already running.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infinitepay.client import InfinitePayClient  # noqa: E402
from infinitepay.messages import (  # noqa: E402
    Address,
    Amounts,
    Article,
    CheckStatusRequest,
    Credentials,
    Debtor,
    ReserveRequest,
)
from sandbox.accounts import Account  # noqa: E402
from sandbox.faults import FaultKind  # noqa: E402
from sandbox.handle import SandboxHandle  # noqa: E402

# One httpx pool's bookkeeping grows with its connections; a Celery process uses one pool per
# integration with a few threads, so the fan-out shares a pool among this many threads.
THREADS_PER_POOL = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--in-flight", type=int, default=250)
    parser.add_argument("--latency-ms", type=int, default=500)
    parser.add_argument("--url", help="base URL of a running sandbox, e.g. http://127.0.0.1:8090")
    args = parser.parse_args()

    process = None
    if args.url:
        handle = SandboxHandle(args.url)
    else:
        process, handle = start_sandbox()
    try:
        handle.reset()
        handle.set_faults(rate=0.0)
        throughput(handle, calls=args.calls, concurrency=args.concurrency)
        fan_out(handle, in_flight=args.in_flight, latency_ms=args.latency_ms)
    finally:
        handle.no_faults()
        handle.close()
        if process is not None:
            process.terminate()
            process.wait(timeout=10)


def throughput(handle: SandboxHandle, *, calls: int, concurrency: int) -> None:
    clients = make_clients(handle, threads=concurrency)
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(lambda n: reserve(clients, n), range(concurrency)))  # warm up
        started = time.perf_counter()
        durations = list(pool.map(lambda n: reserve(clients, n), range(calls)))
        elapsed = time.perf_counter() - started
    close(clients)
    print(f"Throughput: {calls} Reserve calls from {concurrency} threads in {elapsed:.2f} s")
    print(f"  {calls / elapsed:.0f} calls/s served")
    print(
        f"  latency per call: median {statistics.median(durations) * 1000:.1f} ms, "
        f"p95 {percentile(durations, 95) * 1000:.1f} ms"
    )


def fan_out(handle: SandboxHandle, *, in_flight: int, latency_ms: int) -> None:
    clients = make_clients(handle, threads=in_flight)

    def check(n: int) -> float:
        client = clients[n % len(clients)]
        started = time.perf_counter()
        client.call(CheckStatusRequest(order_id=f"BENCH-{n}"))
        return time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        list(pool.map(check, range(in_flight)))  # warm up threads and connections
        handle.reset()
        handle.set_faults(rate=1.0, kinds=[FaultKind.LATENCY], latency_ms=latency_ms)
        started = time.perf_counter()
        list(pool.map(check, range(in_flight)))
        elapsed = time.perf_counter() - started
    close(clients)
    calls = handle.calls()
    latency = latency_ms / 1000
    print(f"Fan-out: {in_flight} Check status calls at once, {latency_ms} ms injected latency")
    print(f"  all answered in {elapsed:.2f} s = {elapsed / latency:.2f} × the latency")
    print(f"  most calls in flight at once (sandbox): {calls['peak_in_flight']}")
    print(f"  serialized, they would take {in_flight * latency:.0f} s")


def reserve(clients: list[InfinitePayClient], n: int) -> float:
    client = clients[n % len(clients)]
    request = ReserveRequest(
        order_id=f"BENCH-{uuid.uuid4().hex}",
        amounts=Amounts(currency="EUR", total_gross=Decimal("119.00"), total_net=Decimal("100.00")),
        debtor=Debtor(
            company_name="Bench Handels GmbH",
            vat_id=f"DE{n % 1000:09d}",  # spread over debtors: no limit runs out
            email="bench@example.com",
            legal_form="gmbh",
            first_name="Bea",
            last_name="Bench",
            address=Address(street="Benchweg 1", postal_code="10115", city="Berlin", country="DE"),
            ip_address="203.0.113.1",
        ),
        articles=(
            Article(
                sku="BENCH",
                name="Bench item",
                quantity=1,
                unit_price_net=Decimal("100.00"),
                unit_price_gross=Decimal("119.00"),
                vat_rate=Decimal("0.19"),
            ),
        ),
    )
    started = time.perf_counter()
    result = client.call(request)
    if not result.approved:
        raise SystemExit(f"Reserve denied: {result.errors}")
    return time.perf_counter() - started


def make_clients(handle: SandboxHandle, *, threads: int) -> list[InfinitePayClient]:
    account = Account()
    credentials = Credentials(
        client_reference=account.client_reference,
        username=account.username,
        password=account.password,
        secret=account.secret,
    )
    pools = max(1, threads // THREADS_PER_POOL)
    limits = httpx.Limits(max_connections=threads, max_keepalive_connections=threads)
    return [
        InfinitePayClient(
            credentials=credentials,
            url=handle.url,
            http=httpx.Client(timeout=httpx.Timeout(30, connect=5), limits=limits),
        )
        for _ in range(pools)
    ]


def close(clients: list[InfinitePayClient]) -> None:
    for client in clients:
        client._http.close()


def percentile(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def start_sandbox() -> tuple[subprocess.Popen, SandboxHandle]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port)],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.DEVNULL,
    )
    handle = SandboxHandle(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 20
    while True:
        try:
            handle.faults()
            return process, handle
        except httpx.ConnectError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise SystemExit("the sandbox did not start") from None
            time.sleep(0.1)


if __name__ == "__main__":
    main()
