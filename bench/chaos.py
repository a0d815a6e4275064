"""Fault-injection run: orders through real workers, Redis and PostgreSQL, with faults and kills.

    .venv/bin/python bench/chaos.py [--orders 300] [--kills 3] [--fault-rate 0.2] [--seed 7]
                                    [--workers 2] [--postgres URL] [--redis URL]

1. Creates a fresh database (`proof_chaos`), migrates it, and empties its Redis database.
2. Starts the sandbox (`python -m sandbox`) failing `--fault-rate` of all calls with every
   fault kind: latency, HTTP 500, SOAP fault, dropped connection, timeout and lost answer
   (both longer than the client waits, and taking effect), odd answers (unknown elements,
   another order, decimal amounts; taking effect) and odd statuses (STATUS 7: nothing done).
   The WSDL kinds (a slow WSDL, longer than the client waits, and a missing one) hit fetches
   of `?wsdl`; a worker fetches it once (the client keeps the contract per process), so each
   worker started also gets one of them queued for its first fetch. Then `--workers` Celery
   workers (`celery worker --pool threads`), all as subprocesses.
3. Places `--orders` orders through `checkout.services.place_order`, paid with InfinitePay
   (Reserve, Capture and Activate automated), for ordinary buyers and the sandbox's personas
   (denied at reserve, denied at activation, small limit). Meanwhile it kills a worker with
   SIGKILL `--kills` times (and starts a new one), runs the sweeper every second as Celery
   beat would, and cancels denied activations as ops would, to give the buyer's limit back.
4. Waits until nothing is under way, sweeps a last time, then checks every guarantee:
   - against the sandbox's ledger, order by order: our business state (`Guarantee.state`)
     with the sandbox order's state, each amount, and each debtor's reserved amount with the
     sum of the guarantees that hold the limit. A guarantee whose step failed while its call
     took effect at InfinitePay (the sandbox is one step further, e.g. RESERVED with a failed
     capture here, CAPTURED there) is *awaiting ops*, not a disagreement: ops Retry repeats
     the same call, which InfinitePay answers as it did. A failed step without a reason is a
     disagreement;
   - *stuck in flight*: a step still in flight past its lease after the last sweeps;
   - *no way out*: a guarantee that is not final (SETTLED, DECLINED, CANCELED without a failed
     step) and for which `available_operations` offers ops nothing, with nothing under way.

It prints the counts, every disagreement, every guarantee awaiting ops, stuck or without a
way out (with our calls and the sandbox's), and exits 1 on a disagreement, a stuck guarantee
or one with no way out, 2 when the run did not settle in `--settle-timeout` seconds. The
settings that make it converge quickly (short client timeout, lease, grace, visibility
timeout and backoff) are set below.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from itertools import cycle
from pathlib import Path

import httpx
import psycopg
import redis
from psycopg import sql
from stdnum.iso7064 import mod_11_10

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.faults import CALL_KINDS, WSDL_KINDS, FaultKind  # noqa: E402

# The client gives up after READ_TIMEOUT; a "timeout" fault holds the call longer, then lets
# it take effect. A step in flight longer than LEASE is taken over; a killed worker's message
# comes back after VISIBILITY; the sweeper enqueues again what waited GRACE seconds.
PIPELINE_ENV = {
    "INFINITEPAY_CONNECT_TIMEOUT": "1",
    "INFINITEPAY_READ_TIMEOUT": "1",
    "INFINITEPAY_STEP_LEASE_SECONDS": "4",
    "INFINITEPAY_PENDING_GRACE_SECONDS": "3",
    "INFINITEPAY_RETRY_BASE_SECONDS": "0.2",
    "INFINITEPAY_RETRY_MAX_SECONDS": "2",
    "CELERY_VISIBILITY_TIMEOUT": "8",
    "CONN_MAX_AGE": "0",
    "LOG_LEVEL": "WARNING",
}
LEASE_SECONDS = float(PIPELINE_ENV["INFINITEPAY_STEP_LEASE_SECONDS"])
SANDBOX_TIMEOUT_S = "2"  # above the client's read timeout
SANDBOX_WSDL_DELAY_S = "2"  # a slow WSDL: above the client's read timeout too
SANDBOX_LATENCY_MS = "300"
# Every kind the sandbox has: the calls' kinds by the rate, the WSDL's by the rate and queued.
FAULT_KINDS = sorted(str(kind) for kind in CALL_KINDS | WSDL_KINDS)
# The WSDL fault queued for each worker's first fetch of the contract, in turn.
WORKER_WSDL_FAULTS = (FaultKind.WSDL_MISSING, FaultKind.WSDL_SLOW)
SWEEP_EVERY_SECONDS = 1.0
KILL_WAIT_SECONDS = 3.0  # how long a kill waits for a call in flight at the sandbox
# Of every 20 orders: 17 from ordinary buyers, one from each persona.
PERSONA_SHARE = 1 / 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--kills", type=int, default=3, help="SIGKILLs of a worker during the run")
    parser.add_argument("--workers", type=int, default=2, help="worker processes at a time")
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--customers", type=int, default=12, help="ordinary buyers' companies")
    parser.add_argument("--rate", type=float, default=25.0, help="orders placed per second")
    parser.add_argument("--settle-timeout", type=float, default=300.0)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="proof_chaos")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args()

    logs = Path(tempfile.mkdtemp(prefix="chaos-"))
    recreate_database(args.postgres, args.database)
    redis.Redis.from_url(args.redis).flushdb()
    sandbox_process, sandbox_base = start_sandbox(args, logs)
    os.environ.update(
        PIPELINE_ENV,
        DATABASE_URL=f"{args.postgres}/{args.database}",
        CELERY_BROKER_URL=args.redis,
        INFINITEPAY_TEST_URL=f"{sandbox_base}/ws/InfinitePayAPI",
    )
    run = None
    try:
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        run = ChaosRun(args, sandbox_base, logs)
        run.seed()
        return run.go()
    finally:
        if run is not None:
            run.stop_workers()
        sandbox_process.terminate()
        sandbox_process.wait(timeout=10)
        if not args.keep_database:
            from django.db import connections

            connections.close_all()
            drop_database(args.postgres, args.database)
        print(f"logs: {logs}")


@dataclass(frozen=True)
class Finding:
    """One guarantee (or debtor) the check has something to say about."""

    order_id: str
    what: str


@dataclass
class Comparison:
    """What the check against the sandbox's ledger found."""

    disagreements: list[Finding] = field(default_factory=list)
    awaiting_ops: list[Finding] = field(default_factory=list)
    failed_in_agreement: int = 0  # a failed step that did nothing there: ops decide, all agree


class ChaosRun:
    def __init__(self, args: argparse.Namespace, sandbox_base: str, logs: Path) -> None:
        from sandbox.handle import SandboxHandle

        self.args = args
        self.logs = logs
        self.sandbox = SandboxHandle(sandbox_base)
        self.random = random.Random(args.seed)
        self.workers: list = []
        self.kills = 0
        self.started_workers = 0
        self.last_sweep = 0.0
        self.wsdl_faults = cycle(WORKER_WSDL_FAULTS)

    # --- Setting up -----------------------------------------------------------------------

    def seed(self) -> None:
        """Products, the InfinitePay integration on the sandbox, a rule, and the buyers."""
        from django.contrib.auth import get_user_model

        from checkout import demo
        from checkout.models import Buyer, Product
        from infinitepay import demo as infinitepay_demo
        from payment_rules.services import DestinationSpec, MethodSpec, create_rule
        from sandbox.accounts import (
            DENIED_AT_ACTIVATION,
            DENIED_AT_RESERVE,
            SMALL_LIMIT,
        )

        User = get_user_model()
        owner = User.objects.create(username="chaos", is_staff=True)
        self.integration = infinitepay_demo.seed_integration(owner=owner)  # all automated
        create_rule(
            name="InfinitePay in Germany",
            currency="EUR",
            sort_order=10,
            destinations=[DestinationSpec(country="DE")],
            methods=[MethodSpec(integration=self.integration)],
        )
        demo.seed_products()
        self.products = list(Product.objects.order_by("sku"))

        def buyer_of(name: str, vat_id: str) -> Buyer:
            customer = demo.seed_customer(
                demo.DemoCompany(
                    name=name,
                    vat_id=vat_id,
                    street="Chausseestraße 1",
                    postal_code="10115",
                    city="Berlin",
                )
            )
            user = User.objects.create(username=f"buyer-{vat_id}", email=f"{vat_id}@example.com")
            return Buyer.objects.create(user=user, customer=customer)

        self.buyers = [
            buyer_of(f"Chaos Kunde {n} GmbH", german_vat_id(50_000_000 + n))
            for n in range(self.args.customers)
        ]
        self.personas = [
            buyer_of(p.company_name, p.vat_id)
            for p in (DENIED_AT_RESERVE, DENIED_AT_ACTIVATION, SMALL_LIMIT)
        ]

    # --- The run ----------------------------------------------------------------------------

    def go(self) -> int:
        args = self.args
        for _ in range(args.workers):
            self.start_worker()
        print(
            f"Chaos run: {args.orders} orders, {args.workers} workers, {args.kills} SIGKILL(s), "
            f"sandbox failing {args.fault_rate:.0%} of calls and WSDL fetches with "
            f"{', '.join(FAULT_KINDS)} (seed {args.seed}); a WSDL fault queued for each "
            "worker's first fetch"
        )
        kill_at = {args.orders * (k + 1) // (args.kills + 1) for k in range(args.kills)}
        started = time.monotonic()
        for number in range(args.orders):
            if number in kill_at:
                self.kill_a_worker()
            self.place_order()
            self.sweep_now_and_then()
            time.sleep(1 / args.rate)
        placed = time.monotonic()
        print(f"placed {args.orders} orders in {placed - started:.1f} s")

        settled = self.wait_until_settled()
        took = time.monotonic() - placed
        if not settled:
            print(f"NOT SETTLED after {took:.0f} s: {self.under_way()} guarantee(s) under way")
        else:
            print(f"settled {took:.1f} s after the last order ({time.monotonic() - started:.1f} s)")
        stuck = self.final_sweeps()
        problems = self.report(stuck)
        if not settled:
            return 2
        return 1 if problems else 0

    def start_worker(self) -> None:
        from tests.processes import WorkerProcess

        # Its first fetch of the WSDL fails (the others keep theirs): the client loads it
        # once per process, so a rate alone would hardly ever reach it.
        self.sandbox.fail_next([next(self.wsdl_faults)])
        self.started_workers += 1
        log = self.logs / f"worker-{self.started_workers}.log"
        self.workers.append(WorkerProcess(extra_env={}, log_path=log).start())

    def kill_a_worker(self) -> None:
        """SIGKILL the oldest worker mid-run (calls in flight, messages unacknowledged)."""
        worker = self.workers.pop(0)
        # Kill it while calls are under way at the sandbox, if any come within a few seconds.
        deadline = time.monotonic() + KILL_WAIT_SECONDS
        while (in_flight := self.sandbox.calls()["in_flight"]) == 0:
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        worker.kill()
        self.kills += 1
        print(f"  SIGKILL worker (pid {worker.process.pid}) with {in_flight} call(s) in flight")
        self.start_worker()

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.stop()

    def place_order(self) -> None:
        from checkout import services

        draw = self.random.random()
        if draw < PERSONA_SHARE * len(self.personas):
            buyer = self.personas[int(draw / PERSONA_SHARE)]
        else:
            buyer = self.random.choice(self.buyers)
        for product in self.random.sample(self.products, self.random.randint(1, 3)):
            services.add_to_cart(buyer=buyer, product=product, quantity=self.random.randint(1, 3))
        cart = services.get_cart(buyer=buyer)
        address = buyer.customer.addresses.get()
        services.choose_billing_address(cart=cart, address=address)
        services.choose_shipping_address(cart=cart, address=address)
        services.choose_shipping_method(cart=cart, shipping_method="flat_rate")
        method = self.integration.method_identifier
        services.choose_payment_method(
            cart=cart,
            method=method,
            allowed=[method],
            method_data={"debtor_email": buyer.user.email, "legal_form": "gmbh"},
        )
        services.place_order(
            buyer=buyer, checkout_token=cart.checkout_token, buyer_ip="203.0.113.9"
        )

    def sweep_now_and_then(self, *, now: bool = False) -> None:
        """What Celery beat and ops do meanwhile: the sweeper; cancel denied activations."""
        if not now and time.monotonic() - self.last_sweep < SWEEP_EVERY_SECONDS:
            return
        self.last_sweep = time.monotonic()
        from infinitepay import services
        from infinitepay.models import Guarantee
        from infinitepay.states import State, Step
        from infinitepay.steps import InvalidTransition

        services.sweep_guarantees()
        denied = Guarantee.objects.filter(
            state=State.ACTIVATION_DENIED, pending_step="", step_in_flight=""
        )
        for guarantee_id in denied.values_list("pk", flat=True):
            with contextlib.suppress(InvalidTransition, services.StepInProgress):
                services.request_step(guarantee_id=guarantee_id, step=Step.CANCEL)

    def under_way(self) -> int:
        from django.db.models import Q

        from infinitepay.models import Guarantee
        from infinitepay.states import State

        return Guarantee.objects.filter(
            ~Q(pending_step="") | ~Q(step_in_flight="") | Q(state=State.ACTIVATION_DENIED)
        ).count()

    def wait_until_settled(self) -> bool:
        deadline = time.monotonic() + self.args.settle_timeout
        while time.monotonic() < deadline:
            self.sweep_now_and_then()
            if self.under_way() == 0:
                return True
            time.sleep(0.5)
        return False

    def final_sweeps(self) -> list:
        """Sweep until no step is in flight, for two leases at most; return the guarantees
        whose step is still in flight past its lease."""
        from django.utils import timezone

        from infinitepay.models import Guarantee

        in_flight = Guarantee.objects.exclude(step_in_flight="")
        deadline = time.monotonic() + 2 * LEASE_SECONDS + 2
        while True:
            self.sweep_now_and_then(now=True)
            if not in_flight.exists() or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        cutoff = timezone.now() - timedelta(seconds=LEASE_SECONDS)
        return list(in_flight.filter(in_flight_since__lt=cutoff).order_by("pk"))

    # --- The check --------------------------------------------------------------------------

    def report(self, stuck: list) -> bool:
        """Print the figures and findings; return whether anything is wrong."""
        from infinitepay.models import ApiCall, Guarantee
        from infinitepay.states import State

        calls = self.sandbox.calls()
        print(f"sandbox calls: {calls['total']} {dict(sorted(calls['operations'].items()))}")
        print(f"WSDL fetches: {calls['wsdl']}")
        faults = {kind: calls["faults"].get(kind, 0) for kind in FAULT_KINDS}
        print(f"faults injected: {sum(faults.values())} {faults}")
        print(f"workers killed: {self.kills}, started: {self.started_workers}")
        outcomes = Counter(ApiCall.objects.values_list("outcome", flat=True))
        print(f"our API call records by outcome: {dict(sorted(outcomes.items()))}")

        guarantees = list(Guarantee.objects.select_related("payment__order__customer"))
        states = Counter(State(g.state).label for g in guarantees)
        print(f"guarantees: {len(guarantees)} {dict(sorted(states.items()))}")
        failed = Counter(
            f"{State(g.state).label} · {g.failed_step} failed" for g in guarantees if g.failed_step
        )
        print(f"failed steps: {sum(failed.values())} {dict(sorted(failed.items()))}")

        comparison = compare_with_ledger(guarantees, self.sandbox)
        print(
            f"failed steps that did nothing at InfinitePay (states agree, ops decide): "
            f"{comparison.failed_in_agreement}"
        )
        log = self.sandbox_calls_by_order()
        by_order = {g.order_id: g for g in guarantees}

        def show(findings: list[Finding]) -> None:
            for finding in findings:
                print(f"  {finding.order_id}: {finding.what}")
                if finding.order_id in by_order:
                    print(self.describe(by_order[finding.order_id], log))

        print(f"awaiting ops (the failed step took effect at InfinitePay; Retry repeats it): "
              f"{len(comparison.awaiting_ops)}")  # fmt: skip
        show(comparison.awaiting_ops)
        print(f"disagreements: {len(comparison.disagreements)}")
        show(comparison.disagreements)
        print(f"stuck in flight (past the {LEASE_SECONDS:.0f} s lease after the last sweeps): "
              f"{len(stuck)}")  # fmt: skip
        show([Finding(g.order_id, f"{g.step_in_flight} in flight since {g.in_flight_since}")
              for g in stuck])  # fmt: skip
        no_way_out = guarantees_without_a_way_out(guarantees)
        print(f"no way out (not final, nothing under way, no operation offered): "
              f"{len(no_way_out)}")  # fmt: skip
        show(no_way_out)
        stuck_ids = {g.pk for g in stuck}
        under_way = [
            Finding(g.order_id, f"{State(g.state).label}, {g.pending_step} pending")
            if g.pending_step
            else Finding(g.order_id, f"{State(g.state).label}, {g.step_in_flight} in flight")
            for g in guarantees
            if (g.pending_step or g.step_in_flight) and g.pk not in stuck_ids
        ]
        if under_way:  # only when the run did not settle
            print(f"still under way: {len(under_way)}")
            show(under_way)
        return bool(comparison.disagreements or stuck or no_way_out)

    def sandbox_calls_by_order(self) -> dict[str, list[dict]]:
        calls: dict[str, list[dict]] = defaultdict(list)
        for entry in self.sandbox.call_log():
            calls[entry["order_id"]].append(entry)
        return calls

    def describe(self, guarantee, log: dict[str, list[dict]]) -> str:
        """Our record and the sandbox's of one guarantee, to see what happened."""
        from infinitepay.states import State

        ours = [
            f"{c.step} #{c.attempt} {c.outcome}"
            + (f" STATUS {c.provider_status}" if c.provider_status else "")
            + (f" HTTP {c.http_status}" if c.http_status else "")
            for c in guarantee.api_calls.order_by("pk")
        ]
        remote = self.sandbox.order(guarantee.order_id)
        theirs = [
            f"{e['operation']} {e['fault'] or 'ok'} → HTTP {e['http_status']} STATUS {e['status']}"
            for e in log.get(guarantee.order_id, [])
        ]
        return "\n".join(
            [
                f"    ours: {State(guarantee.state).label}, failed step {guarantee.failed_step!r}, "
                f"pending {guarantee.pending_step!r}, in flight {guarantee.step_in_flight!r}, "
                f"error {guarantee.last_error_message!r}, note {guarantee.check_status_note!r}",
                f"    our calls: {'; '.join(ours) or 'none'}",
                f"    sandbox: {remote['state'] if remote else 'no order'}, history "
                f"{remote['history'] if remote else []}",
                f"    sandbox calls naming it: {'; '.join(theirs) or 'none'}",
            ]
        )


# --- Comparing with the sandbox's ledger -------------------------------------------------------

# The sandbox's order states in which the debtor's limit is taken.
PROVIDER_HOLDING = {"RESERVED", "CAPTURED", "ACTIVATED", "ACTIVATION_DENIED"}


def provider_state(state) -> str | None:
    """The sandbox order's state for our business state (None: InfinitePay has no order)."""
    from infinitepay.states import State

    return {
        State.NEW: None,
        State.RESERVED: "RESERVED",
        State.CAPTURED: "CAPTURED",
        State.ACTIVATED: "ACTIVATED",
        State.SETTLED: "SETTLED",
        State.DECLINED: "DENIED",
        State.ACTIVATION_DENIED: "ACTIVATION_DENIED",
        State.CANCELED: "CANCELED",
    }[state]


def took_effect(guarantee) -> set[str]:
    """The sandbox states in which the guarantee's failed step has taken effect there: where
    its approval or its denial leads (none if no step failed or it cannot start here)."""
    from infinitepay.states import State, Step
    from infinitepay.steps import STEPS

    if not guarantee.failed_step:
        return set()
    transition = STEPS[Step(guarantee.failed_step)]
    if State(guarantee.state) not in transition.sources:
        return set()
    return {
        provider_state(target)
        for target in (transition.approved, transition.denied)
        if target is not None
    }


def compare_with_ledger(guarantees: list, sandbox) -> Comparison:
    """Each guarantee against its sandbox order, then each debtor's reserved amount."""
    from infinitepay.states import State

    comparison = Comparison()
    disagree = comparison.disagreements.append
    expected_reserved: dict[str, Decimal] = defaultdict(Decimal)
    for guarantee in guarantees:
        state = State(guarantee.state)
        amount = guarantee.payment.amount
        vat_id = guarantee.payment.order.customer.vat_id
        remote = sandbox.order(guarantee.order_id)
        remote_state = remote["state"] if remote else None
        expected = provider_state(state)
        failed = f", {guarantee.failed_step} failed" if guarantee.failed_step else ""
        if guarantee.failed_step and not guarantee.last_error_message:
            disagree(Finding(guarantee.order_id, f"{state.label}{failed} without a reason"))
        if remote_state == expected:
            comparison.failed_in_agreement += bool(guarantee.failed_step)
        elif remote_state in took_effect(guarantee):
            # The call took effect there; its answer was lost or unreadable here.
            comparison.awaiting_ops.append(
                Finding(
                    guarantee.order_id,
                    f"we have {state.label}{failed} ({guarantee.last_error_message}), "
                    f"the sandbox has {remote_state}",
                )
            )
            expected = remote_state
        else:
            disagree(
                Finding(
                    guarantee.order_id,
                    f"we have {state.label}{failed}, the sandbox has {remote_state or 'no order'}",
                )
            )
        if remote is not None and Decimal(remote["amount_gross"]) != amount:
            disagree(
                Finding(guarantee.order_id, f"amount {amount} here, {remote['amount_gross']} there")
            )
        if expected in PROVIDER_HOLDING:
            expected_reserved[vat_id] += amount
    for debtor in sandbox.debtors():
        reserved = Decimal(debtor["reserved"])
        expected = expected_reserved.pop(debtor["vat_id"], Decimal("0"))
        if reserved != expected:
            disagree(
                Finding(debtor["vat_id"], f"debtor has {reserved} reserved, we expect {expected}")
            )
    for vat_id, expected in expected_reserved.items():
        disagree(Finding(vat_id, f"unknown to the sandbox, we expect {expected}"))
    return comparison


def guarantees_without_a_way_out(guarantees: list) -> list[Finding]:
    """Guarantees that are not final, have nothing under way, and offer ops no operation."""
    from infinitepay.operations import available_operations
    from infinitepay.states import State

    final = {State.SETTLED, State.DECLINED, State.CANCELED}
    return [
        Finding(
            g.order_id,
            f"{State(g.state).label}"
            + (f", {g.failed_step} failed" if g.failed_step else "")
            + ": no operation offered",
        )
        for g in guarantees
        if not (State(g.state) in final and not g.failed_step)
        and not (g.pending_step or g.step_in_flight)
        and not available_operations(g)
    ]


# --- Processes and the database ------------------------------------------------------------------


def start_sandbox(args: argparse.Namespace, logs: Path) -> tuple[subprocess.Popen, str]:
    from tests.processes import free_port

    port = free_port()
    log = (logs / "sandbox.log").open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "--port",
            str(port),
            "--fault-rate",
            str(args.fault_rate),
            "--fault-kinds",
            ",".join(FAULT_KINDS),
            "--seed",
            str(args.seed),
            "--timeout-s",
            SANDBOX_TIMEOUT_S,
            "--wsdl-delay-s",
            SANDBOX_WSDL_DELAY_S,
            "--latency-ms",
            SANDBOX_LATENCY_MS,
        ],  # fmt: skip
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(f"{base}/sandbox/faults", timeout=1).raise_for_status()
            return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the sandbox did not start; see {logs / 'sandbox.log'}")


def recreate_database(server_url: str, name: str) -> None:
    drop_database(server_url, name)
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)
        ))  # fmt: skip


def german_vat_id(number: int) -> str:
    """A valid German VAT ID (ISO 7064 mod 11,10 check digit) from an 8-digit number."""
    digits = f"{number:08d}"
    return f"DE{digits}{mod_11_10.calc_check_digit(digits)}"


if __name__ == "__main__":
    sys.exit(main())
