"""The pipeline with a real Celery worker on Redis and PostgreSQL, including a SIGKILL."""

from decimal import Decimal

import pytest
from django.db import connection

from backoffice.celery import app as celery_app
from checkout import services as checkout_services
from infinitepay.models import Guarantee
from infinitepay.states import State
from tests.processes import WorkerProcess, require_services, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

# Short enough for a test: a killed worker's message comes back after VISIBILITY seconds,
# and its step may be taken over LEASE seconds after it started.
VISIBILITY = "3"
LEASE = "2"


@pytest.fixture
def worker(sandbox, tmp_path):
    require_services()
    celery_app.control.purge()
    started: list[WorkerProcess] = []

    def start() -> WorkerProcess:
        process = WorkerProcess(
            extra_env={
                "INFINITEPAY_TEST_URL": sandbox.url,
                "CELERY_VISIBILITY_TIMEOUT": VISIBILITY,
                "INFINITEPAY_STEP_LEASE_SECONDS": LEASE,
            },
            log_path=tmp_path / "worker.log",
        ).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
    connection.close()


def place_order(ready_cart, buyer, infinitepay) -> Guarantee:
    cart = ready_cart(infinitepay, debtor_email="ap@muster.example", legal_form="gmbh")
    order = checkout_services.place_order(
        buyer=buyer, checkout_token=cart.checkout_token, buyer_ip="203.0.113.7"
    )
    return Guarantee.objects.get(payment__order=order)


def state_of(guarantee: Guarantee) -> str:
    return Guarantee.objects.values_list("state", flat=True).get(pk=guarantee.pk)


def test_a_real_worker_takes_the_order_to_activated(
    worker, sandbox, ready_cart, buyer, infinitepay
):
    infinitepay.auto_capture = infinitepay.auto_activation = True
    infinitepay.save()
    process = worker()
    guarantee = place_order(ready_cart, buyer, infinitepay)
    wait_for(
        lambda: state_of(guarantee) == State.ACTIVATED,
        timeout=30,
        what=f"ACTIVATED\n{process.log()}",
    )
    assert sandbox.order(guarantee.order_id)["state"] == "ACTIVATED"


def test_a_worker_killed_mid_call_loses_nothing_and_reserves_once(
    worker, sandbox, ready_cart, buyer, infinitepay
):
    infinitepay.auto_capture = infinitepay.auto_activation = True
    infinitepay.save()
    # The first call (Reserve) takes 2 s: long enough to kill the worker during it.
    sandbox.set_faults(latency_ms=2000)
    sandbox.fail_next(["latency"])
    first = worker()
    guarantee = place_order(ready_cart, buyer, infinitepay)
    wait_for(lambda: sandbox.calls()["in_flight"] >= 1, timeout=20, what="the Reserve call")
    first.kill()

    second = worker()
    wait_for(
        lambda: state_of(guarantee) == State.ACTIVATED,
        timeout=60,
        what=f"ACTIVATED after the kill\n{second.log()}",
    )
    order = sandbox.order(guarantee.order_id)
    assert order["state"] == "ACTIVATED"
    debtor = sandbox.debtor(buyer.customer.vat_id)
    assert Decimal(debtor["reserved"]) == Decimal(order["amount_gross"])  # reserved once
