"""Writes of the guarantee pipeline: start, run a step, request a step, retry, sweep.

Every step follows one protocol:
1. claim: one conditional UPDATE marks the step in flight, only if it was asked for (or
   its earlier worker vanished), so two workers never call for the same guarantee at once;
2. call InfinitePay with no transaction open and no row locked;
3. record: lock the row, store the call as an ApiCall, move the state, ask for the next step.
Tasks are enqueued only after their transaction commits; a crash in between is caught by
the sweeper, which finds the step pending for too long.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from checkout.models import Payment
from checkout.services import set_payment_status

from . import order_data
from .client import InfinitePayClient
from .errors import AuthenticationFailed, InfinitePayError
from .messages import Request, Result
from .models import ApiCall, Guarantee, InfinitePayIntegration
from .states import (
    InvalidTransition,
    State,
    Step,
    can,
    next_automatic_step,
    reconciled_state,
    transition_for,
)

logger = logging.getLogger(__name__)


class StepInProgress(Exception):
    """Another step of the guarantee is pending or in flight; nothing was changed."""


# --- Starting --------------------------------------------------------------------------


def start_guarantee(*, payment: Payment) -> Guarantee:
    """Create the guarantee of a new InfinitePay payment; Reserve is enqueued on commit."""
    guarantee = Guarantee.objects.create(
        payment=payment,
        integration_id=payment.integration_id,
        order_id=order_data.order_id_for(order_number=payment.order.number, payment_id=payment.pk),
        pending_step=Step.RESERVE,
        pending_since=timezone.now(),
    )
    _enqueue_on_commit(guarantee.pk, Step.RESERVE)
    return guarantee


# --- Ops: asking for a step --------------------------------------------------------------


@transaction.atomic
def request_step(*, guarantee_id: int, step: Step, delivery_date: date | None = None) -> Guarantee:
    """Ask for one step (capture, activate, cancel, apply transaction, check status).

    Raises InvalidTransition when the state does not allow it and StepInProgress when
    another step is under way; either way nothing changes. Enqueued after commit.
    """
    guarantee = Guarantee.objects.select_for_update().get(pk=guarantee_id)
    state = State(guarantee.state)
    if step != Step.CHECK_STATUS:
        transition_for(step, state)
    if guarantee.pending_step or guarantee.step_in_flight:
        busy = guarantee.pending_step or guarantee.step_in_flight
        raise StepInProgress(f"{busy.replace('_', ' ').capitalize()} is already under way.")
    if step == Step.ACTIVATE and delivery_date is not None:
        guarantee.delivery_date = delivery_date
    _ask_for(guarantee, step)
    guarantee.save()
    return guarantee


@transaction.atomic
def retry_guarantee(*, guarantee_id: int) -> Guarantee:
    """Resume a FAILED guarantee at the step that failed, with a fresh count of attempts."""
    guarantee = Guarantee.objects.select_for_update().get(pk=guarantee_id)
    if guarantee.state != State.FAILED:
        raise InvalidTransition(
            f"Only a FAILED guarantee can be retried; this one is {State(guarantee.state).label}."
        )
    guarantee.state = guarantee.resume_state
    step = Step(guarantee.failed_step)
    guarantee.resume_state = ""
    guarantee.failed_step = ""
    _ask_for(guarantee, step)
    guarantee.save()
    return guarantee


# --- Workers: running a step -------------------------------------------------------------


@dataclass(frozen=True)
class StepRun:
    """What running a step came to; `retry_in` asks the task to try again that much later."""

    outcome: str
    retry_in: float | None = None


SKIPPED = StepRun("skipped")


def run_step(*, guarantee_id: int, step: Step, task_id: str = "") -> StepRun:
    """Run one step for a worker: claim it, call InfinitePay, record what came back."""
    guarantee = _claim(guarantee_id=guarantee_id, step=step)
    if guarantee is None:
        return SKIPPED
    client = InfinitePayClient.for_integration(guarantee.integration)
    try:
        result = client.call(_build_request(guarantee, step))
    except InfinitePayError as error:
        return _record_error(guarantee_id=guarantee_id, step=step, error=error, task_id=task_id)
    return _record_result(guarantee_id=guarantee_id, step=step, result=result, task_id=task_id)


# What each step's request is built from, read in one query with the claimed row. Only
# Reserve sends the debtor; joining customer and buyer for every step made the claim the
# costliest query of a step (its planning, measured by bench/pipeline.py).
_ORDER = ("integration", "payment__order")
CLAIM_JOINS: dict[Step, tuple[str, ...]] = {
    Step.RESERVE: (*_ORDER, "payment__order__customer", "payment__order__buyer__user"),
    Step.CAPTURE: _ORDER,
    Step.ACTIVATE: _ORDER,
    Step.CANCEL: _ORDER,
    Step.APPLY_TRANSACTION: _ORDER,
}


def _claim(*, guarantee_id: int, step: Step) -> Guarantee | None:
    now = timezone.now()
    lease_expired = now - timedelta(seconds=settings.INFINITEPAY_STEP_LEASE_SECONDS)
    asked_for = Q(pending_step=step, step_in_flight="")
    abandoned = Q(step_in_flight=step, in_flight_since__lt=lease_expired)
    candidates = Guarantee.objects.filter(asked_for | abandoned, pk=guarantee_id)
    if step != Step.CHECK_STATUS:
        # Only ops resume a FAILED guarantee (Retry); check status may reconcile it.
        candidates = candidates.exclude(state=State.FAILED)
    claimed = candidates.update(
        step_in_flight=step,
        in_flight_since=now,
        pending_step="",
        pending_since=None,
        next_retry_at=None,
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    if not claimed:
        logger.info("Guarantee %s: %s not claimed (done, under way or gone)", guarantee_id, step)
        return None
    guarantee = Guarantee.objects.select_related(*CLAIM_JOINS.get(step, ("integration",))).get(
        pk=guarantee_id
    )
    if step != Step.CHECK_STATUS and not can(step, State(guarantee.state)):
        # Asked for, but the state moved on meanwhile (e.g. canceled): drop the claim.
        Guarantee.objects.filter(pk=guarantee_id, step_in_flight=step).update(
            step_in_flight="", in_flight_since=None, attempts=0
        )
        return None
    return guarantee


def _build_request(guarantee: Guarantee, step: Step) -> Request:
    if step == Step.RESERVE:
        return order_data.reserve_request(guarantee)
    if step == Step.CAPTURE:
        return order_data.capture_request(guarantee)
    if step == Step.ACTIVATE:
        return order_data.activate_request(guarantee, today=timezone.localdate())
    if step == Step.CANCEL:
        return order_data.cancel_request(guarantee)
    if step == Step.APPLY_TRANSACTION:
        return order_data.apply_transaction_request(guarantee)
    return order_data.check_status_request(guarantee)


@transaction.atomic
def _record_result(*, guarantee_id: int, step: Step, result: Result, task_id: str) -> StepRun:
    guarantee = _lock(guarantee_id)
    outcome = ApiCall.Outcome.APPROVED if result.approved else ApiCall.Outcome.DENIED
    _store_call(guarantee, step, task_id=task_id, outcome=outcome, result=result)
    if guarantee.integration.credentials_rejected_at is not None:  # spare every call an UPDATE
        _credentials_accepted(guarantee.integration_id)
    _release(guarantee, step)
    if step == Step.CHECK_STATUS:
        _reconcile(guarantee, result)
    elif result.approved:
        _approve(guarantee, step, result)
    else:
        _deny(guarantee, step, result)
    guarantee.save()
    return StepRun(outcome)


@transaction.atomic
def _record_error(
    *, guarantee_id: int, step: Step, error: InfinitePayError, task_id: str
) -> StepRun:
    guarantee = _lock(guarantee_id)
    if isinstance(error, AuthenticationFailed):
        outcome = ApiCall.Outcome.AUTH_FAILED
    elif error.transient:
        outcome = ApiCall.Outcome.TRANSIENT
    elif error.outcome_unknown:
        outcome = ApiCall.Outcome.MALFORMED
    else:
        outcome = ApiCall.Outcome.REJECTED
    _store_call(guarantee, step, task_id=task_id, outcome=outcome, error=error)
    _release(guarantee, step)
    if not (guarantee.state == State.FAILED and step == Step.CHECK_STATUS):
        # (A failed check of a FAILED guarantee keeps the failure's reason; _fail adds to it.)
        guarantee.last_error_code = outcome
        guarantee.last_error_message = error.message
    if isinstance(error, AuthenticationFailed):
        InfinitePayIntegration.objects.filter(pk=guarantee.integration_id).update(
            credentials_rejected_at=timezone.now()
        )
        _fail(guarantee, step, f"InfinitePay rejected the credentials: {error.message}")
    elif not error.transient:
        _fail(guarantee, step, error.message)
        _reconcile_failure(guarantee, step, error)
    elif guarantee.attempts >= settings.INFINITEPAY_MAX_ATTEMPTS:
        _fail(guarantee, step, f"Gave up after {guarantee.attempts} attempts: {error.message}")
        _reconcile_failure(guarantee, step, error)
    else:
        # The same call again later: same ORDER_ID, so an unknown outcome cannot count twice.
        delay = retry_delay(guarantee.attempts)
        guarantee.pending_step = step
        guarantee.pending_since = timezone.now() + timedelta(seconds=delay)
        guarantee.next_retry_at = guarantee.pending_since
        guarantee.save()
        return StepRun(outcome, retry_in=delay)
    guarantee.save()
    return StepRun(outcome)


def _reconcile_failure(guarantee: Guarantee, step: Step, error: InfinitePayError) -> None:
    """Ask check status about a step given up on, whenever one of its calls may have worked.

    A lost answer or a timeout may have reserved (or captured, activated…) at InfinitePay;
    so may an earlier attempt of a step whose last attempt was not even sent. Left FAILED,
    such a guarantee would hold the buyer's limit while we think it holds nothing. Check
    status adopts InfinitePay's state if the step took effect; otherwise the failure stands.
    """
    if step == Step.CHECK_STATUS or not (error.transient or error.outcome_unknown):
        return
    _ask_for(guarantee, Step.CHECK_STATUS)


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter, bounded: about base·2^(n-1), never over the maximum."""
    ceiling = min(
        settings.INFINITEPAY_RETRY_MAX_SECONDS,
        settings.INFINITEPAY_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0),
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)


# --- Recording helpers -------------------------------------------------------------------


def _lock(guarantee_id: int) -> Guarantee:
    return (
        Guarantee.objects.select_for_update(of=("self",))
        .select_related("integration", "payment")
        .get(pk=guarantee_id)
    )


def _release(guarantee: Guarantee, step: Step) -> None:
    if guarantee.step_in_flight == step:
        guarantee.step_in_flight = ""
        guarantee.in_flight_since = None


def _approve(guarantee: Guarantee, step: Step, result: Result) -> None:
    state = State(guarantee.state)
    if not can(step, state):
        # A repeated call whose first answer was recorded already: nothing more to do.
        return
    _take_result_data(guarantee, result)
    _move(guarantee, transition_for(step, state).approved)


def _deny(guarantee: Guarantee, step: Step, result: Result) -> None:
    state = State(guarantee.state)
    if not can(step, state):
        return
    guarantee.last_error_code = ",".join(result.error_codes)
    guarantee.last_error_message = "; ".join(e.message for e in result.errors) or "Denied"
    denied = transition_for(step, state).denied
    if denied is None:
        _fail(
            guarantee, step, f"InfinitePay refused to {step.value}: {guarantee.last_error_message}"
        )
    else:
        _move(guarantee, denied)


def _reconcile(guarantee: Guarantee, result: Result) -> None:
    """Adopt InfinitePay's view of the order; then go on with what is automated."""
    observed = reconciled_state(result.order_state) if result.approved else None
    failed = guarantee.state == State.FAILED
    if observed is None:
        # InfinitePay does not know the order (no reserve took effect) or said nothing useful.
        said = "; ".join(e.message for e in result.errors) or f"state {result.order_state!r}"
        if failed:
            # The failure stands, with its reason; ops see what check status added.
            guarantee.last_error_message += f" (Check status: {said})"
            return
        guarantee.last_error_code = ",".join(result.error_codes)
        guarantee.last_error_message = f"Check status: {said}"
        if guarantee.state == State.NEW:
            _ask_for(guarantee, Step.RESERVE)
        return
    if failed and observed == guarantee.resume_state:
        # The failed step did not take effect: the failure stands; only ops Retry it.
        guarantee.last_error_message += f" (Check status: InfinitePay has it {observed.label})"
        return
    _take_result_data(guarantee, result)
    if failed:
        guarantee.resume_state = ""
        guarantee.failed_step = ""
    _move(guarantee, observed)


def _take_result_data(guarantee: Guarantee, result: Result) -> None:
    guarantee.ref_no = result.ref_no or guarantee.ref_no
    guarantee.debtor_id = result.debtor_id or guarantee.debtor_id
    if result.guaranteed_amount is not None:
        guarantee.guaranteed_amount = result.guaranteed_amount
    guarantee.last_error_code = ""
    guarantee.last_error_message = ""


def _move(guarantee: Guarantee, state: State) -> None:
    """Enter a state: the payment's status follows, and the next automatic step is asked for."""
    guarantee.state = state
    guarantee.attempts = 0
    _sync_payment_status(guarantee)
    integration = guarantee.integration
    step = next_automatic_step(
        state,
        auto_capture=integration.auto_capture,
        auto_activation=integration.auto_activation,
    )
    if step is not None:
        _ask_for(guarantee, step)


def _fail(guarantee: Guarantee, step: Step, reason: str) -> None:
    if guarantee.state == State.FAILED and step == Step.CHECK_STATUS:
        # Reconciling a failure failed too: the failed step and its reason stand.
        guarantee.pending_step = ""
        guarantee.pending_since = None
        guarantee.next_retry_at = None
        guarantee.last_error_message += f" (Check status failed too: {reason})"
        logger.warning("Guarantee %s: check status failed: %s", guarantee.order_id, reason)
        return
    if guarantee.state != State.FAILED:
        guarantee.resume_state = guarantee.state
    guarantee.state = State.FAILED
    guarantee.failed_step = step
    guarantee.pending_step = ""
    guarantee.pending_since = None
    guarantee.next_retry_at = None
    guarantee.last_error_message = reason
    _sync_payment_status(guarantee)
    logger.warning("Guarantee %s FAILED at %s: %s", guarantee.order_id, step, reason)


def _ask_for(guarantee: Guarantee, step: Step) -> None:
    guarantee.pending_step = step
    guarantee.pending_since = timezone.now()
    guarantee.attempts = 0
    _enqueue_on_commit(guarantee.pk, step)


PAYMENT_STATUS = {
    State.ACTIVATED: Payment.Status.PAID_IN_FULL,
    State.SETTLED: Payment.Status.PAID_IN_FULL,
    State.DECLINED: Payment.Status.DECLINED,
    State.ACTIVATION_DENIED: Payment.Status.DECLINED,
    State.CANCELED: Payment.Status.CANCELED,
}


def payment_status_for(state: State) -> Payment.Status:
    """Oro's words for a guarantee's state: anything not yet guaranteed is pending."""
    return PAYMENT_STATUS.get(state, Payment.Status.PENDING)


def _sync_payment_status(guarantee: Guarantee) -> None:
    status = payment_status_for(State(guarantee.state))
    if guarantee.payment.status != status:
        set_payment_status(payment=guarantee.payment, status=status)


def _store_call(
    guarantee: Guarantee,
    step: Step,
    *,
    task_id: str,
    outcome: str,
    result: Result | None = None,
    error: InfinitePayError | None = None,
) -> ApiCall:
    exchange = result.exchange if result is not None else error.exchange
    errors = result.errors if result is not None else ()
    return ApiCall.objects.create(
        guarantee=guarantee,
        operation=exchange.operation.value if exchange else step.value,
        step=step,
        attempt=guarantee.attempts,
        outcome=outcome,
        url=exchange.url if exchange else "",
        request_xml=exchange.request_xml if exchange else "",
        response_xml=(exchange.response_xml or "") if exchange else "",
        http_status=exchange.http_status if exchange else None,
        provider_status=result.status if result is not None else "",
        error_codes=[e.code for e in errors],
        error_messages=[e.message for e in errors] or ([error.message] if error else []),
        duration_ms=exchange.duration_ms if exchange else 0,
        task_id=task_id or "",
    )


def _credentials_accepted(integration_id: int) -> None:
    InfinitePayIntegration.objects.filter(
        pk=integration_id, credentials_rejected_at__isnull=False
    ).update(credentials_rejected_at=None)


def _enqueue_on_commit(guarantee_id: int, step: Step) -> None:
    from .tasks import run_step

    transaction.on_commit(lambda: run_step.delay(guarantee_id, step.value))


# --- The sweeper -------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepReport:
    requeued: int
    taken_over: int


def sweep_guarantees(*, now: datetime | None = None) -> SweepReport:
    """Enqueue again what waits too long, and take over steps whose worker vanished.

    Both are safe to repeat: a step is claimed once, and InfinitePay sees the same ORDER_ID.
    """
    now = now or timezone.now()
    pending_cutoff = now - timedelta(seconds=settings.INFINITEPAY_PENDING_GRACE_SECONDS)
    lease_cutoff = now - timedelta(seconds=settings.INFINITEPAY_STEP_LEASE_SECONDS)
    requeued = taken_over = 0
    waiting = Guarantee.objects.filter(step_in_flight="", pending_since__lt=pending_cutoff).exclude(
        pending_step=""
    )
    for guarantee_id, step in waiting.values_list("pk", "pending_step"):
        with transaction.atomic():
            touched = Guarantee.objects.filter(
                pk=guarantee_id, pending_step=step, pending_since__lt=pending_cutoff
            ).update(pending_since=now)
            if touched:
                _enqueue_on_commit(guarantee_id, Step(step))
                requeued += 1
    stuck = Guarantee.objects.filter(in_flight_since__lt=lease_cutoff).exclude(step_in_flight="")
    for guarantee_id, step in stuck.values_list("pk", "step_in_flight"):
        with transaction.atomic():
            touched = Guarantee.objects.filter(
                pk=guarantee_id, step_in_flight=step, in_flight_since__lt=lease_cutoff
            ).update(step_in_flight="", in_flight_since=None, pending_step=step, pending_since=now)
            if touched:
                _enqueue_on_commit(guarantee_id, Step(step))
                taken_over += 1
    if requeued or taken_over:
        logger.warning("Sweeper: %d step(s) enqueued again, %d taken over", requeued, taken_over)
    return SweepReport(requeued=requeued, taken_over=taken_over)
