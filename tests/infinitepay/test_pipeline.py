"""The guarantee pipeline end to end: checkout places the order, tasks run against the sandbox.

Tasks run eagerly (in this process) as their transactions commit; the sandbox's own ledger
is checked, not only our database.
"""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from checkout.models import Payment
from infinitepay import services
from infinitepay.client import InfinitePayClient
from infinitepay.models import ApiCall, Guarantee, InfinitePayIntegration
from infinitepay.states import State, Step
from infinitepay.steps import STEPS, InvalidTransition
from sandbox.accounts import DENIED_AT_ACTIVATION, DENIED_AT_RESERVE

pytestmark = pytest.mark.django_db


def calls(guarantee: Guarantee) -> list[tuple[str, str]]:
    return list(guarantee.api_calls.values_list("step", "outcome"))


def reserved(sandbox, vat_id: str) -> Decimal:
    """What the sandbox's ledger holds against the debtor's limit."""
    return Decimal(sandbox.debtor(vat_id)["reserved"])


def test_flags_off_reserves_and_waits(place, infinitepay, sandbox):
    guarantee = place(infinitepay)
    assert guarantee.state == State.RESERVED
    assert guarantee.ref_no
    assert guarantee.payment.status == Payment.Status.PENDING
    assert calls(guarantee) == [("reserve", "approved")]
    assert sandbox.order(guarantee.order_id)["state"] == "RESERVED"


def test_capture_only_stops_before_activation(place, infinitepay, sandbox):
    infinitepay.auto_capture = True
    infinitepay.save()
    guarantee = place(infinitepay)
    assert guarantee.state == State.CAPTURED
    assert guarantee.payment.status == Payment.Status.PENDING
    assert calls(guarantee) == [("reserve", "approved"), ("capture", "approved")]
    assert sandbox.order(guarantee.order_id)["state"] == "CAPTURED"


def test_capture_and_activation_guarantee_the_payment(place, infinitepay, sandbox, buyer):
    infinitepay.auto_capture = infinitepay.auto_activation = True
    infinitepay.save()
    guarantee = place(infinitepay)
    assert guarantee.state == State.ACTIVATED
    assert guarantee.payment.status == Payment.Status.PAID_IN_FULL
    assert guarantee.guaranteed_amount == guarantee.payment.amount
    assert calls(guarantee) == [
        ("reserve", "approved"),
        ("capture", "approved"),
        ("activate", "approved"),
    ]
    # Every call of the payment carried the same ORDER_ID.
    assert all(guarantee.order_id in c.request_xml for c in guarantee.api_calls.all())
    assert sandbox.order(guarantee.order_id)["state"] == "ACTIVATED"
    assert reserved(sandbox, buyer.customer.vat_id) == guarantee.payment.amount


def test_denial_at_reserve_declines_with_the_reason(place, infinitepay, sandbox, buyer):
    customer = buyer.customer
    customer.vat_id = DENIED_AT_RESERVE.vat_id
    customer.save()
    guarantee = place(infinitepay)
    assert guarantee.state == State.DECLINED
    assert guarantee.payment.status == Payment.Status.DECLINED
    assert calls(guarantee) == [("reserve", "denied")]
    status = infinitepay.integration_type.describe_status(guarantee.payment)
    # The buyer reads our words; the provider's own reason is kept for ops.
    assert status == "Payment declined: InfinitePay could not guarantee this invoice."
    assert "credit check" in guarantee.last_error_message
    assert reserved(sandbox, DENIED_AT_RESERVE.vat_id) == 0


def test_denial_at_activation_keeps_the_limit_until_cancel(
    place, infinitepay, sandbox, buyer, django_capture_on_commit_callbacks
):
    customer = buyer.customer
    customer.vat_id = DENIED_AT_ACTIVATION.vat_id
    customer.save()
    infinitepay.auto_capture = infinitepay.auto_activation = True
    infinitepay.save()
    guarantee = place(infinitepay)
    assert guarantee.state == State.ACTIVATION_DENIED
    assert guarantee.payment.status == Payment.Status.DECLINED
    assert reserved(sandbox, DENIED_AT_ACTIVATION.vat_id) > 0

    with django_capture_on_commit_callbacks(execute=True):
        services.request_step(guarantee_id=guarantee.pk, step=Step.CANCEL)
    guarantee.refresh_from_db()
    assert guarantee.state == State.CANCELED
    assert reserved(sandbox, DENIED_AT_ACTIVATION.vat_id) == 0
    assert Payment.objects.get(pk=guarantee.payment_id).status == Payment.Status.CANCELED


@pytest.mark.parametrize("fault", ["http_500", "soap_fault", "drop", "timeout", "lost_answer"])
def test_a_transient_failure_then_success_reserves_once(
    fault, place, infinitepay, sandbox, buyer, settings
):
    settings.INFINITEPAY_READ_TIMEOUT = 0.5
    sandbox.set_faults(timeout_s=1.5)
    sandbox.fail_next([fault])
    guarantee = place(infinitepay)
    assert guarantee.state == State.RESERVED
    assert calls(guarantee) == [("reserve", "transient"), ("reserve", "approved")]
    assert guarantee.attempts == 0
    first, second = guarantee.api_calls.all()
    assert (first.attempt, second.attempt) == (1, 2)
    assert reserved(sandbox, buyer.customer.vat_id) == guarantee.payment.amount  # once
    assert sandbox.calls()["operations"]["reserveOrder"] == 2


def test_retries_exhausted_fail_with_the_reason_and_change_nothing_else(
    place, infinitepay, sandbox, buyer, settings
):
    settings.INFINITEPAY_MAX_ATTEMPTS = 3
    sandbox.set_faults(rate=1.0, kinds=["http_500"])
    guarantee = place(infinitepay)
    assert guarantee.state == State.NEW
    assert guarantee.failed_step == Step.RESERVE
    assert guarantee.failure_reason == "InfinitePay failed on its side"
    assert guarantee.last_error_message == "HTTP 500"  # as it came
    assert guarantee.check_status_note.startswith("Check status failed")
    assert guarantee.payment.status == Payment.Status.PENDING
    # Before giving up for good, the pipeline asks whether a call took effect after all.
    assert calls(guarantee) == [("reserve", "transient")] * 3 + [("check_status", "transient")] * 3
    assert sandbox.order(guarantee.order_id) is None
    assert guarantee.step_in_flight == guarantee.pending_step == ""


def test_ops_retry_resumes_the_failed_step(
    place, infinitepay, sandbox, settings, django_capture_on_commit_callbacks
):
    settings.INFINITEPAY_MAX_ATTEMPTS = 2
    sandbox.set_faults(rate=1.0, kinds=["soap_fault"])
    guarantee = place(infinitepay)
    assert (guarantee.state, guarantee.failed_step) == (State.NEW, Step.RESERVE)
    sandbox.no_faults()
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_guarantee(guarantee_id=guarantee.pk)
    guarantee.refresh_from_db()
    assert guarantee.state == State.RESERVED
    assert guarantee.failed_step == guarantee.last_error_message == ""


def test_rejected_credentials_fail_at_once(place, infinitepay, sandbox):
    infinitepay.password = "not-the-password"
    infinitepay.save()
    guarantee = place(infinitepay)
    assert (guarantee.state, guarantee.failed_step) == (State.NEW, Step.RESERVE)
    assert calls(guarantee) == [("reserve", "auth_failed")]
    assert guarantee.failure_reason == "Credentials rejected"
    assert "authenticated" in guarantee.last_error_message  # the fault, as it came
    infinitepay.refresh_from_db()
    assert infinitepay.credentials_rejected_at is not None


def test_an_invalid_transition_raises_and_changes_nothing(place, infinitepay, sandbox):
    guarantee = place(infinitepay)  # RESERVED, auto flags off
    before = Guarantee.objects.filter(pk=guarantee.pk).values().get()
    with pytest.raises(InvalidTransition, match="Cannot activate a guarantee in state RESERVED"):
        services.request_step(guarantee_id=guarantee.pk, step=Step.ACTIVATE)
    with pytest.raises(InvalidTransition, match="nothing has failed"):
        services.retry_guarantee(guarantee_id=guarantee.pk)
    assert Guarantee.objects.filter(pk=guarantee.pk).values().get() == before


def test_a_step_is_asked_for_once(place, infinitepay, sandbox):
    guarantee = place(infinitepay, run=False)
    with pytest.raises(services.StepInProgress, match="Reserve is already under way"):
        services.request_step(guarantee_id=guarantee.pk, step=Step.CHECK_STATUS)


def test_a_crash_between_commit_and_enqueue_loses_nothing(
    place, infinitepay, sandbox, settings, django_capture_on_commit_callbacks
):
    guarantee = place(infinitepay, run=False)  # committed, but the task was never sent
    assert guarantee.state == State.NEW and guarantee.pending_step == Step.RESERVE
    assert services.sweep_guarantees().requeued == 0  # too early to tell
    later = timezone.now() + timedelta(seconds=settings.INFINITEPAY_PENDING_GRACE_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep_guarantees(now=later).requeued == 1
    guarantee.refresh_from_db()
    assert guarantee.state == State.RESERVED


def test_a_step_whose_worker_vanished_is_taken_over(
    place, infinitepay, sandbox, buyer, settings, django_capture_on_commit_callbacks
):
    sandbox.fail_next(["lost_answer"])
    settings.INFINITEPAY_MAX_ATTEMPTS = 1  # the worker "dies" after its call took effect
    guarantee = place(infinitepay)
    # Make it look like the worker vanished mid-call instead of recording the failure.
    Guarantee.objects.filter(pk=guarantee.pk).update(
        state=State.NEW,
        failed_step="",
        step_in_flight=Step.RESERVE,
        in_flight_since=timezone.now(),
    )
    later = timezone.now() + timedelta(seconds=settings.INFINITEPAY_STEP_LEASE_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep_guarantees(now=later).taken_over == 1
    guarantee.refresh_from_db()
    assert guarantee.state == State.RESERVED
    assert reserved(sandbox, buyer.customer.vat_id) == guarantee.payment.amount


def test_check_status_reconciles_a_failed_guarantee(
    place, infinitepay, sandbox, settings, django_capture_on_commit_callbacks
):
    settings.INFINITEPAY_MAX_ATTEMPTS = 1
    # Reserved at InfinitePay, failed with us: the pipeline's own check status failed too.
    sandbox.fail_next(["lost_answer", "http_500"])
    guarantee = place(infinitepay)
    assert (guarantee.state, guarantee.failed_step) == (State.NEW, Step.RESERVE)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_step(guarantee_id=guarantee.pk, step=Step.CHECK_STATUS)
    guarantee.refresh_from_db()
    assert guarantee.state == State.RESERVED
    assert guarantee.ref_no == sandbox.order(guarantee.order_id)["ref_no"]


def test_giving_up_on_a_lost_answer_asks_check_status_and_adopts_the_reserve(
    place, infinitepay, sandbox, buyer, settings
):
    settings.INFINITEPAY_MAX_ATTEMPTS = 1
    sandbox.fail_next(["lost_answer"])  # the last attempt reserved, but its answer was lost
    guarantee = place(infinitepay)
    assert guarantee.state == State.RESERVED
    assert guarantee.failed_step == ""
    assert calls(guarantee) == [("reserve", "transient"), ("check_status", "approved")]
    assert guarantee.ref_no == sandbox.order(guarantee.order_id)["ref_no"]
    assert reserved(sandbox, buyer.customer.vat_id) == guarantee.payment.amount


def test_a_later_step_given_up_on_stays_failed_for_ops(
    place, infinitepay, sandbox, settings, django_capture_on_commit_callbacks
):
    settings.INFINITEPAY_MAX_ATTEMPTS = 2
    guarantee = place(infinitepay)  # RESERVED, capture not automated
    sandbox.fail_next(["http_500", "http_500"])
    with django_capture_on_commit_callbacks(execute=True):
        services.request_step(guarantee_id=guarantee.pk, step=Step.CAPTURE)
    guarantee.refresh_from_db()
    # Check status cannot say whether a capture took effect: ops Retry (same ORDER_ID).
    assert (guarantee.state, guarantee.failed_step) == (State.RESERVED, Step.CAPTURE)
    assert guarantee.failure_reason == "InfinitePay failed on its side"
    assert calls(guarantee) == [("reserve", "approved")] + [("capture", "transient")] * 2
    assert guarantee.pending_step == guarantee.step_in_flight == ""


@pytest.mark.parametrize(
    ("state", "status"),
    [
        (State.NEW, Payment.Status.PENDING),
        (State.RESERVED, Payment.Status.PENDING),
        (State.CAPTURED, Payment.Status.PENDING),
        (State.ACTIVATED, Payment.Status.PAID_IN_FULL),
        (State.SETTLED, Payment.Status.PAID_IN_FULL),
        (State.DECLINED, Payment.Status.DECLINED),
        (State.ACTIVATION_DENIED, Payment.Status.DECLINED),
        (State.CANCELED, Payment.Status.CANCELED),
    ],
)
def test_payment_status_in_oros_words(state, status):
    assert services.payment_status_for(state) == status


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_on_one_guarantee_make_one_call(place, infinitepay, sandbox):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL (CI runs it)")
    guarantee = place(infinitepay)
    # Start over as if Reserve had just been asked for (committed, as workers see it).
    sandbox.reset()
    Guarantee.objects.filter(pk=guarantee.pk).update(
        state=State.NEW, pending_step=Step.RESERVE, pending_since=timezone.now()
    )
    ApiCall.objects.filter(guarantee=guarantee).delete()
    sandbox.set_faults(rate=1.0, kinds=["latency"], latency_ms=300)
    outcomes = []

    def work():
        outcomes.append(services.run_step(guarantee_id=guarantee.pk, step=Step.RESERVE).outcome)
        connection.close()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(outcomes) == ["approved", "skipped"]
    assert sandbox.calls()["operations"]["reserveOrder"] == 1
    assert ApiCall.objects.filter(guarantee=guarantee).count() == 1


def test_money_reaches_the_sandbox_in_cents(place, infinitepay, sandbox):
    guarantee = place(infinitepay)
    order = sandbox.order(guarantee.order_id)
    assert Decimal(order["amount_gross"]) == guarantee.payment.amount


def executed(captured: CaptureQueriesContext) -> list[str]:
    """The statements run, a prepared one's (`EXECUTE name(…)`) as the text it was prepared
    from; the `PREPARE`s themselves read nothing."""
    prepared: dict[str, str] = {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, statement FROM pg_prepared_statements")
            prepared = dict(cursor.fetchall())
    statements = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if sql.startswith("PREPARE "):
            continue
        if sql.startswith("EXECUTE "):
            # PostgreSQL keeps the whole `PREPARE name AS <statement>`.
            sql = prepared[sql.split()[1].split("(")[0]].split(" AS ", 1)[1]
        statements.append(sql)
    return statements


@pytest.mark.parametrize("setting", ["auto_capture", "auto_activation"])
def test_automation_turned_off_during_a_call_stops_the_steps_that_follow(
    place, infinitepay, sandbox, monkeypatch, setting
):
    """The steps of one task read the integration's automation anew as each is recorded:
    ops who turn it off while a call is under way stop the next step."""
    infinitepay.auto_capture = infinitepay.auto_activation = True
    infinitepay.save()
    guarantee = place(infinitepay, run=False)
    call = InfinitePayClient.call
    turned_off_at = Step.RESERVE if setting == "auto_capture" else Step.CAPTURE

    def call_while_ops_turn_it_off(client, request):
        if request.operation == STEPS[turned_off_at].operation:
            InfinitePayIntegration.objects.filter(pk=infinitepay.pk).update(**{setting: False})
        return call(client, request)

    monkeypatch.setattr(InfinitePayClient, "call", call_while_ops_turn_it_off)
    services.run_step(guarantee_id=guarantee.pk, step=Step.RESERVE)
    guarantee.refresh_from_db()
    stopped_at = State.RESERVED if setting == "auto_capture" else State.CAPTURED
    assert (guarantee.state, guarantee.pending_step, guarantee.step_in_flight) == (
        stopped_at,
        "",
        "",
    )
    assert [step for step, _ in calls(guarantee)] == (
        ["reserve"] if setting == "auto_capture" else ["reserve", "capture"]
    )


def test_a_worker_reads_an_orders_integration_payment_and_order_once_for_its_three_steps(
    place, infinitepay, sandbox
):
    """Reserve, Capture and Activate run in one task: the claim reads what they send, and
    recording each step locks the guarantee's row alone, a call and its record each time."""
    infinitepay.auto_capture = infinitepay.auto_activation = True
    infinitepay.save()
    guarantee = place(infinitepay, run=False)
    with CaptureQueriesContext(connection) as captured:
        services.run_step(guarantee_id=guarantee.pk, step=Step.RESERVE)
    guarantee.refresh_from_db()
    assert guarantee.state == State.ACTIVATED
    assert calls(guarantee) == [
        ("reserve", "approved"),
        ("capture", "approved"),
        ("activate", "approved"),
    ]
    statements = executed(captured)
    reads_of = {
        table: sum(f'FROM "{table}"' in sql or f'JOIN "{table}"' in sql for sql in statements)
        for table in ["infinitepay_infinitepayintegration", "checkout_payment", "checkout_order"]
    }
    assert reads_of == {
        # The claim; then, with each step's row lock, the settings recording decides by.
        "infinitepay_infinitepayintegration": 1 + 3,
        "checkout_payment": 1,
        "checkout_order": 1,
    }
    if connection.vendor == "postgresql":
        # The claim's eight-table SELECT is planned once per session, not once per order.
        assert statements[0].startswith('WITH "infinitepay_guarantee" AS (UPDATE')
        assert captured.captured_queries[-len(statements)]["sql"].startswith("EXECUTE ")
    assert sum(sql.startswith('INSERT INTO "infinitepay_apicall"') for sql in statements) == 3
