"""What the benchmarks share: a fresh PostgreSQL database, the product's processes, the arithmetic.

Every benchmark runs the product as production does (PostgreSQL, Redis, gunicorn, Celery
workers with a thread pool, DEBUG off) against a database of its own, `bench_<name>_<pid>`,
created and migrated at the start and dropped at the end. Redis db 7 is the benchmarks'
broker; it is flushed before a run. Processes start on free ports, log to files under
`var/bench/`, and are stopped when the run ends, however it ends.

    harness.configure("checkout")        # before django.setup(): the environment of the run
    with harness.fresh_database(), contextlib.ExitStack() as stack:
        sandbox, _ = harness.start_sandbox(stack)
        env = harness.product_env(sandbox.url)
        base_url, _ = harness.start_gunicorn(stack, env=env, workers=4, threads=8)
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / "var" / "bench"
# Override with BENCH_POSTGRES_URL / BENCH_REDIS_URL to run elsewhere.
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
# Production settings, served over plain HTTP on the loopback: no TLS redirect, no
# secure-only cookies. The key is fixed so that every process of a run reads the secrets
# the benchmark wrote (a throwaway database, so a published key is harmless).
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGH",
    "FIELD_ENCRYPTION_KEYS": "YmVuY2gtb25seS1rZXktLS0tLS0tLS0tLS0tLS0tLS0=",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",  # testserver: the test Client
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "LOG_LEVEL": "WARNING",
}
# Server processes keep their database connection between requests and tasks.
CONN_MAX_AGE = "60"

_database_name = ""
# Whether this run's broker is Redis db 7 (else memory: no worker, nothing to flush).
_redis_broker = True
# Benchmarks share Redis db 7 and flush it: one run at a time on a server (a run started
# meanwhile waits). The lock is PostgreSQL's, held by a connection open for the whole run.
BENCHMARK_LOCK = 7_000_007
_lock_connection = None


def configure(name: str, *, lock: bool = True) -> str:
    """Set this run's environment and Django up; return the database name (not yet created).

    `lock=False`: a run with no worker (its broker is in memory: what is enqueued is dropped)
    does not use Redis db 7, and need not wait for the other benchmarks."""
    global _database_name, _redis_broker
    if lock:
        _take_benchmark_lock()
    _database_name = f"bench_{name}_{os.getpid()}"
    _redis_broker = lock
    # Ctrl-C and kill both unwind the run: its processes stop and its database is dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ.update(PRODUCTION_ENV)
    os.environ["DATABASE_URL"] = f"{POSTGRES_URL}/{_database_name}"
    os.environ["CELERY_BROKER_URL"] = REDIS_URL if lock else "memory://"
    os.environ["DJANGO_SETTINGS_MODULE"] = "backoffice.settings"
    sys.path.insert(0, str(ROOT))
    LOG_DIR.mkdir(parents=True, exist_ok=True)

    import django

    django.setup()
    return _database_name


def _take_benchmark_lock() -> None:
    """Wait until no other benchmark runs against this PostgreSQL and Redis; once a process."""
    global _lock_connection
    if _lock_connection is not None:
        return
    import psycopg

    _lock_connection = psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True)
    (taken,) = _lock_connection.execute(
        "SELECT pg_try_advisory_lock(%s)", (BENCHMARK_LOCK,)
    ).fetchone()
    if not taken:
        print("another benchmark is running here (they share Redis db 7): waiting for it")
        _lock_connection.execute("SELECT pg_advisory_lock(%s)", (BENCHMARK_LOCK,))


@contextlib.contextmanager
def fresh_database() -> Iterator[None]:
    """Create and migrate this run's database, flush the benchmarks' Redis db (if the run's
    broker is Redis); drop both after, and the run's static files if a server collected them."""
    import psycopg
    import redis
    from django.core.management import call_command
    from django.db import connections

    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{_database_name}"')
    if _redis_broker:
        redis.Redis.from_url(REDIS_URL).flushdb()
    try:
        call_command("migrate", verbosity=0, interactive=False)
        yield
    finally:
        connections.close_all()
        with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{_database_name}" WITH (FORCE)')
        if _redis_broker:
            redis.Redis.from_url(REDIS_URL).flushdb()
        shutil.rmtree(_static_root(), ignore_errors=True)


def product_env(sandbox_url: str, **extra: str) -> dict[str, str]:
    """The environment of a product process (web or worker) of this run."""
    return {
        **os.environ,
        "CONN_MAX_AGE": CONN_MAX_AGE,
        "INFINITEPAY_TEST_URL": sandbox_url,
        **extra,
    }


def load_bench_module(name: str):
    """Import bench/<name>.py as `bench_<name>`: the repository's top-level packages (such as
    `sandbox`) come first on the path, so a plain import would find them instead."""
    import importlib.util

    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# --- Data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shopper:
    """A seeded buyer: the login, the address to choose, the method to pick."""

    buyer_id: int
    username: str
    address_id: int


@dataclass(frozen=True)
class Storefront:
    integration_id: int
    method: str
    product_ids: tuple[int, ...]
    shoppers: tuple[Shopper, ...]


PASSWORD = "bench-pass-2026"


def seed_storefront(*, buyers: int) -> Storefront:
    """InfinitePay (automating Capture and Activate) for buyers in Germany, two products, and
    `buyers` buyers, each of a company of its own (own VAT ID: the sandbox's credit limit is
    per debtor), with one billing and shipping address in Berlin."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from payment_rules.services import DestinationSpec, MethodSpec, create_rule
    from tests.checkout.factories import BuyerFactory, CustomerAddressFactory, ProductFactory
    from tests.factories import InfinitePayIntegrationFactory, StaffUserFactory

    owner = StaffUserFactory(username="bench-admin")
    integration = InfinitePayIntegrationFactory(
        default_owner=owner, auto_capture=True, auto_activation=True, test_mode=True
    )
    create_rule(
        name="InfinitePay DE",
        currency="EUR",
        sort_order=10,
        destinations=[DestinationSpec(country="DE")],
        methods=[MethodSpec(integration=integration)],
    )
    products = [
        ProductFactory(sku="PAPER", name="Copy paper", unit_price=Decimal("4.90")),
        ProductFactory(
            sku="COFFEE", name="Coffee", unit_price=Decimal("18.50"), vat_rate=Decimal("0.07")
        ),
    ]
    # One password hash for all: hashing is slow on purpose, and UserFactory hashes per user.
    password = make_password(PASSWORD)
    shoppers = []
    for n in range(buyers):
        user = get_user_model().objects.create(
            username=f"bench-buyer-{n}", email=f"bench-buyer-{n}@example.com", password=password
        )
        buyer = BuyerFactory(
            user=user, customer__name=f"Bench Handels {n} GmbH", customer__vat_id=german_vat_id(n)
        )
        address = CustomerAddressFactory(customer=buyer.customer)
        shoppers.append(Shopper(buyer.pk, user.username, address.pk))
    return Storefront(
        integration_id=integration.pk,
        method=integration.method_identifier,
        product_ids=tuple(p.pk for p in products),
        shoppers=tuple(shoppers),
    )


# The Place order form's hidden fields: the checkout's token and the fingerprint of what the
# review page showed (an order is placed only if the checkout is still the one reviewed).
PLACE_ORDER_FIELDS = re.compile(r'name="(checkout_token|fingerprint)" value="([^"]+)"')


def checkout_posts(shopper: Shopper, store: Storefront) -> list[tuple[str, dict[str, str]]]:
    """The POSTs (path, form data) that fill a shopper's cart and walk the checkout up to the
    review: three papers and a coffee, its address, flat rate, InfinitePay with Debtor Data."""
    paper, coffee = store.product_ids
    address = str(shopper.address_id)
    # The method's own form is prefixed with its integration type's key ("infinitepay").
    type_key = store.method.rsplit("_", 1)[0]
    return [
        (f"/cart/add/{paper}/", {"quantity": "3"}),
        (f"/cart/add/{coffee}/", {"quantity": "1"}),
        ("/checkout/billing/", {"address": address}),
        ("/checkout/shipping/", {"address": address}),
        ("/checkout/shipping-method/", {"shipping_method": "flat_rate"}),
        (
            "/checkout/payment/",
            {
                "method": store.method,
                f"{type_key}-debtor_email": f"{shopper.username}@example.com",
                f"{type_key}-legal_form": "gmbh",
            },
        ),
    ]


def place_order_form(review_page: str) -> dict[str, str]:
    """The Place order form's fields, read from the review page's HTML."""
    form = dict(PLACE_ORDER_FIELDS.findall(review_page))
    if len(form) != 2:
        raise SystemExit(f"no Place order form on the review page:\n{review_page[:2000]}")
    return form


def german_vat_id(n: int) -> str:
    """The n-th valid German VAT ID of the benchmarks (DE + 8 digits + check digit)."""
    from stdnum.iso7064 import mod_11_10

    digits = f"{70_000_000 + n:08d}"
    return f"DE{digits}{mod_11_10.calc_check_digit(digits)}"


# --- Processes ---------------------------------------------------------------------------


@dataclass
class Process:
    """A subprocess of the run, its log file, and a way to stop it."""

    name: str
    popen: subprocess.Popen
    log_path: Path
    hostname: str = ""  # a Celery worker's node name, for remote control
    stop_signal: int = signal.SIGTERM

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(self.stop_signal)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)


def start_process(
    stack: contextlib.ExitStack,
    name: str,
    argv: Sequence[str],
    *,
    env: dict[str, str] | None,
    stop_signal: int = signal.SIGTERM,
) -> Process:
    """Start a subprocess in the repository; the stack stops it (with `stop_signal`)."""
    log_path = LOG_DIR / f"{_database_name or 'bench'}-{name}.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            list(argv), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    process = Process(name=name, popen=popen, log_path=log_path, stop_signal=stop_signal)
    stack.callback(process.stop)
    return process


def start_sandbox(stack: contextlib.ExitStack):  # -> tuple[SandboxHandle, Process]
    """Start `python -m sandbox` on a free port; return a handle on it and it."""
    from sandbox.handle import SandboxHandle
    from tests.processes import free_port

    port = free_port()
    process = start_process(
        stack,
        "sandbox",
        [sys.executable, "-m", "sandbox", "--port", str(port)],
        env=None,
    )
    handle = SandboxHandle(f"http://127.0.0.1:{port}")
    stack.callback(handle.close)
    wait_until(lambda: _answers(handle.faults), process=process, what="the sandbox")
    return handle, process


def start_gunicorn(
    stack: contextlib.ExitStack, *, env: dict[str, str], workers: int, threads: int
) -> tuple[str, Process]:
    """Start gunicorn (gthread workers) on a free port; return its base URL and process.

    Production serves static files by their hashed names from collectstatic's manifest, so
    they are collected first, once per run (by its first server), into a folder of the run's
    own, which fresh_database() removes at the end of the run."""
    from tests.processes import free_port, server_argv

    static_root = _static_root()
    if not static_root.exists():
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT,
            env={**env, "STATIC_ROOT": str(static_root)},
            check=True,
        )
    env = {**env, "STATIC_ROOT": str(static_root)}
    port = free_port()
    process = start_process(
        stack,
        f"gunicorn-{port}",
        # Idle connections are kept longer than the buyers' clients keep them: otherwise
        # gunicorn may close one just as a client reuses it ("Server disconnected").
        server_argv(
            port=port,
            workers=workers,
            threads=threads,
            extra=["--backlog", "2048", "--keep-alive", "75"],
        ),
        env=env,
    )
    base_url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        return _answers(lambda: httpx.get(f"{base_url}/healthz", timeout=2).raise_for_status())

    wait_until(healthy, process=process, what="gunicorn")
    return base_url, process


def _static_root() -> Path:
    return LOG_DIR / f"{_database_name}-static"


def start_worker(
    stack: contextlib.ExitStack,
    *,
    env: dict[str, str],
    concurrency: int,
    name: str,
    queues: str = "celery",
) -> Process:
    """Start `celery worker --pool threads`; return once it is ready to consume."""
    from tests.processes import worker_argv

    process = start_process(
        stack,
        name,
        worker_argv(concurrency=concurrency, hostname=f"{name}@%h", queues=queues),
        env=env,
    )
    process.hostname = f"{name}@{socket.gethostname()}"
    wait_until(lambda: " ready." in process.log(), process=process, what=f"worker {name}")
    return process


def profile(stack: contextlib.ExitStack, process: Process, *, output: Path) -> Process:
    """Sample a process with py-spy until the stack closes; collapsed stacks to `output`.

    py-spy is a tool, not a dependency: `.venv/bin/pip install py-spy` first.
    """
    py_spy = Path(sys.executable).parent / "py-spy"
    if not py_spy.exists():
        raise SystemExit("profiling needs py-spy: .venv/bin/pip install py-spy")
    output.parent.mkdir(parents=True, exist_ok=True)
    argv = [str(py_spy), "record", "--pid", str(process.pid), "--rate", "250", "--nonblocking"]
    argv += ["--format", "raw", "--output", str(output)]
    # py-spy writes its profile when interrupted, as after Ctrl-C.
    return start_process(stack, f"py-spy-{process.name}", argv, env=None, stop_signal=signal.SIGINT)


def wait_until(
    condition: Callable[[], object], *, process: Process, what: str, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.popen.poll() is not None:
            raise SystemExit(f"{what} exited:\n{process.log()[-3000:]}")
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start in {timeout:.0f} s:\n{process.log()[-3000:]}")
        time.sleep(0.1)


def _answers(probe: Callable[[], object]) -> bool:
    try:
        probe()
    except httpx.HTTPError:
        return False
    return True


def peak_rss_kib(pid: int) -> int:
    """Peak resident memory (VmHWM) of a process and its descendants, in KiB."""
    total = 0
    for each in [pid, *_descendants(pid)]:
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except FileNotFoundError:
            continue
        match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
        total += int(match.group(1)) if match else 0
    return total


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, all its threads together."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time a process and its descendants (gunicorn's workers) have used so far."""
    return sum(cpu_seconds(each) for each in [pid, *_descendants(pid)])


def database_backend_pid() -> int:
    """The PostgreSQL server process serving this process's own connection."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def database_backend_pids() -> list[int]:
    """The PostgreSQL server processes serving this run's database right now."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [pid for (pid,) in cursor.fetchall()]


def _descendants(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(FileNotFoundError):
            children += [int(c) for c in (task / "children").read_text().split()]
    return [d for child in children for d in (child, *_descendants(child))]


# --- Figures -----------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile by nearest rank (the same as bench/sandbox.py)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary_ms(seconds: Sequence[float]) -> str:
    """median, p95 and max of durations in seconds, printed in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return (
        f"median {statistics.median(ms):7.1f} ms   p95 {percentile(ms, 95):7.1f} ms   "
        f"max {max(ms):7.1f} ms   (n={len(ms)})"
    )


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"
