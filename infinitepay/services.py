"""Writes of the guarantee pipeline: start, run a step, request a step, retry, sweep.

Every step follows one protocol:
1. claim (`infinitepay.claim`): one conditional UPDATE marks the step in flight, only if it
   was asked for (or its earlier worker vanished), so two workers never call for the same
   guarantee at once;
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
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from checkout.models import Payment
from checkout.services import set_payment_status
from integrations import registry

from . import order_data, wording
from .claim import claim
from .client import InfinitePayClient
from .errors import AuthenticationFailed, InfinitePayError, RequestRejected
from .events import Kind, record_event
from .messages import Result
from .models import ApiCall, Guarantee, InfinitePayIntegration
from .states import Holding, State, Step, holding, next_automatic_step
from .steps import STEPS, InvalidTransition, can, transition_for

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
    guarantee = _lock(guarantee_id)
    state = State(guarantee.state)
    if step != Step.CHECK_STATUS:
        transition_for(step, state)
        if guarantee.failed_step and step != Step.CANCEL:
            raise InvalidTransition(
                gettext("%(step)s failed: Retry it, or Cancel the guarantee.")
                % {"step": guarantee.get_failed_step_display()}
            )
    if guarantee.pending_step or guarantee.step_in_flight:
        busy = guarantee.pending_step or guarantee.step_in_flight
        raise StepInProgress(gettext("%(step)s is already under way.") % {"step": Step(busy).label})
    if step == Step.ACTIVATE and delivery_date is not None:
        guarantee.delivery_date = delivery_date
    if step == Step.CANCEL:
        _clear_failure(guarantee)
        if state == State.NEW:
            # Whether InfinitePay holds anything for an order whose Reserve failed is not
            # known: ask first; the answer releases it there or closes it here (_reconcile).
            guarantee.close_requested = True
            step = Step.CHECK_STATUS
    _ask_for(guarantee, step)
    _save(guarantee)
    return guarantee


@transaction.atomic
def retry_guarantee(*, guarantee_id: int) -> Guarantee:
    """Run a failed step again, with a fresh count of attempts; the same ORDER_ID is sent."""
    guarantee = _lock(guarantee_id)
    if not guarantee.failed_step:
        raise InvalidTransition(
            gettext("Only a failed step can be retried; nothing has failed here.")
        )
    if guarantee.pending_step or guarantee.step_in_flight:
        raise StepInProgress(gettext("A step is already under way."))
    step = Step(guarantee.failed_step)
    _clear_failure(guarantee)
    _ask_for(guarantee, step)
    _save(guarantee)
    return guarantee


@transaction.atomic
def correct_debtor_data(*, guarantee_id: int, email: str, legal_form: str) -> Guarantee:
    """Correct the e-mail and legal form a failed Reserve sent, and run Reserve again."""
    guarantee = _lock(guarantee_id)
    if guarantee.state != State.NEW or guarantee.failed_step != Step.RESERVE:
        raise InvalidTransition(
            gettext("Debtor data can be corrected only when Reserve has failed.")
        )
    payment = guarantee.payment
    # Checked by the form the buyer filled in at checkout (raises ValidationError).
    payment.method_data = registry.get_method_type(payment.method).clean_method_data(
        {"debtor_email": email, "legal_form": legal_form}
    )
    payment.save(update_fields=["method_data"])
    record_event(
        guarantee_id=guarantee.pk,
        kind=Kind.DEBTOR_CORRECTED,
        text=wording.DEBTOR_CORRECTED,
        params={"email": email, "legal_form": legal_form},
    )
    _clear_failure(guarantee)
    _ask_for(guarantee, Step.RESERVE)
    _save(guarantee)
    return guarantee


# --- Workers: running a step -------------------------------------------------------------


@dataclass(frozen=True)
class StepRun:
    """What running a step came to; `retry_in` asks the task to try again that much later.

    `following`: the guarantee, when the next automatic step is claimed for this worker.
    """

    outcome: str
    retry_in: float | None = None
    following: Guarantee | None = None


SKIPPED = StepRun("skipped")


def run_step(*, guarantee_id: int, step: Step, task_id: str = "") -> StepRun:
    """Run one step for a worker: claim it, call InfinitePay, record what came back.

    Whatever goes wrong, in our code or InfinitePay's, ends as a recorded attempt: an ApiCall
    row with the error, the attempt counted, and the step failed when it cannot go on.
    """
    guarantee = _claim(guarantee_id=guarantee_id, step=step)
    if guarantee is None:
        return SKIPPED
    run = _run_claimed(guarantee, step, task_id)
    # The automatic steps that follow run here, one after the other, each its own call.
    while run.following is not None:
        guarantee = run.following
        run = _run_claimed(guarantee, Step(guarantee.step_in_flight), task_id)
    return run


def _run_claimed(guarantee: Guarantee, step: Step, task_id: str) -> StepRun:
    """Call InfinitePay for a step this worker has claimed, and record what came back."""
    guarantee_id = guarantee.pk

    def failed(error: InfinitePayError) -> StepRun:
        try:
            return _record_error(
                guarantee_id=guarantee_id,
                step=step,
                error=error,
                task_id=task_id,
                claimed=guarantee,
            )
        except Exception:
            # Not even the failure can be stored in full: keep the step from looping.
            logger.exception(
                "Guarantee %s: the %s failure could not be recorded", guarantee_id, step
            )
            _mark_failed(guarantee_id=guarantee_id, step=step, detail=error.message)
            return StepRun(ApiCall.Outcome.MALFORMED)

    if guarantee.attempts > settings.INFINITEPAY_MAX_ATTEMPTS:
        # Taken over again and again: each worker stopped mid-step. Stop trying.
        return failed(
            StepAbandoned(f"{step.label} was started {guarantee.attempts} times without finishing")
        )
    try:
        client = InfinitePayClient.for_integration(guarantee.integration)
        request = STEPS[step].build(guarantee, timezone.localdate())
    except Exception as error:  # noqa: BLE001 - any of them means: this request cannot be sent
        logger.exception("Guarantee %s: %s request could not be built", guarantee_id, step)
        return failed(RequestRejected(f"The {step.label} request cannot be built: {error}"))
    try:
        result = client.call(request)
    except InfinitePayError as error:
        return failed(error)
    except Exception as error:  # noqa: BLE001 - a defect of ours while sending or reading
        logger.exception("Guarantee %s: %s failed unexpectedly", guarantee_id, step)
        return failed(UnexpectedFailure(f"{type(error).__name__}: {error}"))
    try:
        return _record_result(
            guarantee_id=guarantee_id, step=step, result=result, task_id=task_id, claimed=guarantee
        )
    except Exception as error:  # noqa: BLE001 - the answer came, and it must not be lost
        logger.exception("Guarantee %s: the %s answer could not be recorded", guarantee_id, step)
        return failed(
            UnexpectedFailure(
                f"The answer could not be recorded: {type(error).__name__}: {error}",
                exchange=result.exchange,
            )
        )


class StepAbandoned(InfinitePayError):
    """The step's workers kept vanishing mid-call: what InfinitePay did is not known."""

    reason = wording.ABANDONED
    outcome_unknown = True


class UnexpectedFailure(InfinitePayError):
    """An error of ours around a call that was sent: it may have taken effect."""

    reason = wording.UNEXPECTED
    transient = True
    outcome_unknown = True


def _claim(*, guarantee_id: int, step: Step) -> Guarantee | None:
    """Mark the step in flight if it was asked for (or its worker vanished); return the
    guarantee with what the step's request reads, or None when it is not this worker's."""
    now = timezone.now()
    lease_expired = now - timedelta(seconds=settings.INFINITEPAY_STEP_LEASE_SECONDS)
    guarantee = claim(guarantee_id, step, now=now, lease_expired=lease_expired)
    if guarantee is None:
        logger.info("Guarantee %s: %s not claimed (done, under way or gone)", guarantee_id, step)
        return None
    if step not in (Step.CHECK_STATUS, Step.CANCEL) and not can(step, State(guarantee.state)):
        # Asked for, but the state moved on meanwhile (e.g. canceled): drop the claim.
        Guarantee.objects.filter(pk=guarantee_id, step_in_flight=step).update(
            step_in_flight="", in_flight_since=None, attempts=0
        )
        return None
    return guarantee


@transaction.atomic
def _record_result(
    *, guarantee_id: int, step: Step, result: Result, task_id: str, claimed: Guarantee | None = None
) -> StepRun:
    guarantee = _lock(guarantee_id, claimed=claimed)
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
    following = _claim_following_step(guarantee)
    _save(guarantee)
    return StepRun(outcome, following=following)


def _claim_following_step(guarantee: Guarantee) -> Guarantee | None:
    """Claim here the automatic step just asked for, so that this worker runs it next.

    It is marked in flight in the same transaction that records the step before it: no new
    task, no new claim. Should this worker die, the lease runs out and the sweeper takes it
    over, as for any step in flight.
    """
    asked: Step | None = getattr(guarantee, "_asked", None)
    if asked is None or asked == Step.CHECK_STATUS:
        return None
    guarantee._asked = None  # type: ignore[attr-defined]
    guarantee.pending_step = ""
    guarantee.pending_since = None
    guarantee.step_in_flight = asked
    guarantee.in_flight_since = timezone.now()
    guarantee.attempts = 1
    return guarantee


@transaction.atomic
def _record_error(
    *,
    guarantee_id: int,
    step: Step,
    error: InfinitePayError,
    task_id: str,
    claimed: Guarantee | None = None,
) -> StepRun:
    guarantee = _lock(guarantee_id, claimed=claimed)
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
    if step == Step.CHECK_STATUS:
        if error.transient and guarantee.attempts < settings.INFINITEPAY_MAX_ATTEMPTS:
            return _retry_later(guarantee, step, outcome)
        # A check that failed settles nothing; what it was asked to settle stays for ops.
        guarantee.close_requested = False
        guarantee.check_status_note = wording.CHECK_STATUS_FAILED
        guarantee.check_status_detail = error.message
        record_event(
            guarantee_id=guarantee.pk,
            kind=Kind.CHECK_STATUS,
            text=wording.CHECK_STATUS_FAILED,
            params={"detail": error.message},
        )
        if guarantee.state == State.NEW and not guarantee.failed_step:
            _fail(guarantee, Step.RESERVE, wording.CHECK_STATUS_FAILED, error.message)
        _save(guarantee)
        return StepRun(outcome)
    if isinstance(error, AuthenticationFailed):
        InfinitePayIntegration.objects.filter(pk=guarantee.integration_id).update(
            credentials_rejected_at=timezone.now()
        )
        _fail(guarantee, step, error.reason, error.message)
    elif not error.transient:
        _fail(guarantee, step, error.reason, error.message)
        _reconcile_failure(guarantee, step, error)
    elif guarantee.attempts >= settings.INFINITEPAY_MAX_ATTEMPTS:
        # Given up after as many calls as the step's attempts say (the page counts them).
        _fail(guarantee, step, error.reason, error.message)
        _reconcile_failure(guarantee, step, error)
    else:
        return _retry_later(guarantee, step, outcome)
    _save(guarantee)
    return StepRun(outcome)


def _mark_failed(*, guarantee_id: int, step: Step, detail: str) -> None:
    """The last resort of a step whose failure cannot be recorded: one plain UPDATE."""
    failed = Step.RESERVE if step == Step.CHECK_STATUS else step
    Guarantee.objects.filter(pk=guarantee_id).update(
        failed_step=failed,
        step_in_flight="",
        in_flight_since=None,
        pending_step="",
        pending_since=None,
        next_retry_at=None,
        failure_reason=wording.NOT_RECORDED,
        last_error_message=detail[:2000],
        updated_at=timezone.now(),
    )


def _retry_later(guarantee: Guarantee, step: Step, outcome: str) -> StepRun:
    """The same call again later: same ORDER_ID, so an unknown outcome cannot count twice."""
    delay = retry_delay(guarantee.attempts)
    guarantee.pending_step = step
    guarantee.pending_since = timezone.now() + timedelta(seconds=delay)
    guarantee.next_retry_at = guarantee.pending_since
    _save(guarantee)
    return StepRun(outcome, retry_in=delay)


def _reconcile_failure(guarantee: Guarantee, step: Step, error: InfinitePayError) -> None:
    """Ask check status about a Reserve given up on, whenever one of its calls may have worked.

    A lost answer or a timeout may have reserved at InfinitePay; so may an earlier attempt of
    a Reserve whose last attempt was not even sent. Left failed, such a guarantee would hold
    the buyer's limit while we think it holds nothing: check status adopts the reservation if
    InfinitePay confirms it. Later steps are not asked about: the answer cannot say whether
    they took effect (Retry repeats them with the same ORDER_ID).
    """
    if step != Step.RESERVE or not (error.transient or error.outcome_unknown):
        return
    _ask_for(guarantee, Step.CHECK_STATUS)


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter, bounded: about base·2^(n-1), never over the maximum."""
    ceiling = min(
        settings.INFINITEPAY_RETRY_MAX_SECONDS,
        settings.INFINITEPAY_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0),
    )
    return float(ceiling / 2 + random.uniform(0, ceiling / 2))


# --- Recording helpers -------------------------------------------------------------------


def _lock(guarantee_id: int, *, claimed: Guarantee | None = None) -> Guarantee:
    """The guarantee, row-locked, with what recording and the next step's request read.

    A worker recording its own step passes the guarantee its claim read: only the row is read
    again, with the integration's settings that recording decides by, and the payment and
    order are the claim's. Those are not changed while a step is in flight (the payment's
    status only by the step that records it), and reading them with every step cost more CPU
    than the rest of recording (bench/inprocess.py). The settings are read again because ops
    may change them meanwhile: Auto-Capture turned off during Reserve stops before Capture.
    """
    if claimed is None:
        guarantee = (
            Guarantee.objects.select_for_update(of=("self",))
            .select_related("integration", "payment__order")
            .get(pk=guarantee_id)
        )
    else:
        guarantee = _lock_row(guarantee_id)
        integration = claimed.integration
        for setting in LOCKED_SETTINGS:
            setattr(integration, setting, getattr(guarantee, f"integration_{setting}"))
        guarantee.integration = integration
        guarantee.payment = claimed.payment
    guarantee._loaded = _columns(guarantee)  # type: ignore[attr-defined]
    return guarantee


# What recording decides by, of the integration (`integration_<name>` on the locked row).
LOCKED_SETTINGS = ("auto_capture", "auto_activation", "credentials_rejected_at")


def _lock_row(guarantee_id: int) -> Guarantee:
    """The guarantee's row, locked, with its integration's `LOCKED_SETTINGS`, in one plain
    statement.

    Recording runs it for every step; the ORM's building of the same query each time cost as
    much CPU as the rest of the lock (bench/inprocess.py), so it is written out once here.
    """
    quote = connection.ops.quote_name
    guarantees = quote(Guarantee._meta.db_table)
    integrations = quote(InfinitePayIntegration._meta.db_table)
    settings_sql = ", ".join(
        f"{integrations}.{quote(name)} AS {quote('integration_' + name)}"
        for name in LOCKED_SETTINGS
    )
    sql = (
        f"SELECT {guarantees}.*, {settings_sql} FROM {guarantees} "
        f"JOIN {integrations} ON {integrations}.{quote(InfinitePayIntegration._meta.pk.column)}"
        f" = {guarantees}.{quote('integration_id')} WHERE {guarantees}.{quote('id')} = %s"
    )
    if connection.features.has_select_for_update:
        # The guarantee's row only: every worker reads the same integration.
        sql += f" {connection.ops.for_update_sql(of=(guarantees,))}"
    for guarantee in Guarantee.objects.raw(sql, [guarantee_id]):
        return guarantee
    raise Guarantee.DoesNotExist(f"Guarantee {guarantee_id} does not exist")


def _save(guarantee: Guarantee) -> None:
    """Write the columns that changed since `_lock`, then enqueue the step asked for, if any."""
    loaded: dict[str, object] = getattr(guarantee, "_loaded", {})
    changed = [name for name, value in _columns(guarantee).items() if loaded.get(name) != value]
    if changed:
        guarantee.save(update_fields=[*changed, "updated_at"])
        guarantee._loaded = _columns(guarantee)  # type: ignore[attr-defined]
    asked: Step | None = getattr(guarantee, "_asked", None)
    if asked is not None:
        guarantee._asked = None  # type: ignore[attr-defined]
        _enqueue_on_commit(guarantee.pk, asked)


def _columns(guarantee: Guarantee) -> dict[str, object]:
    return {
        field.attname: getattr(guarantee, field.attname)
        for field in Guarantee._meta.concrete_fields
        if not field.primary_key and field.attname != "updated_at"
    }


def _release(guarantee: Guarantee, step: Step) -> None:
    if guarantee.step_in_flight == step:
        guarantee.step_in_flight = ""
        guarantee.in_flight_since = None


def _approve(guarantee: Guarantee, step: Step, result: Result) -> None:
    state = State(guarantee.state)
    if not can(step, state):
        # A repeated call whose first answer was recorded already: nothing more to do.
        return
    approved = transition_for(step, state).approved
    if approved is None:  # check status: reconciled, never approved into a state
        return
    _take_result_data(guarantee, result)
    _move(guarantee, approved)


def _deny(guarantee: Guarantee, step: Step, result: Result) -> None:
    state = State(guarantee.state)
    if not can(step, state):
        return
    guarantee.last_error_code = ",".join(result.error_codes)[:64]
    guarantee.last_error_message = _said(result) or "Denied"
    if step == Step.RESERVE:
        guarantee.ref_no = result.ref_no or guarantee.ref_no  # kept even when denied, as Oro does
    denied = transition_for(step, state).denied
    if denied is None:
        _fail(guarantee, step, wording.DECLINED, _said(result))
    else:
        _move(guarantee, denied)


def _reconcile(guarantee: Guarantee, result: Result) -> None:
    """Take what check status says into account, no further than it can be read.

    It never erases what an earlier answer said (a decline's reason stays); its reading is
    kept beside it, for ops.
    """
    found = holding(status=result.status, ref_no=result.ref_no)
    said = f"STATUS {result.status!r}" + (f", REF_NO {result.ref_no}" if result.ref_no else "")
    if result.add_info:
        said += f", ADD_INFO {result.add_info!r}"
    if result.errors:
        said += f" ({_said(result)})"
    guarantee.check_status_note = wording.CHECK_FINDINGS[found]
    guarantee.check_status_detail = said
    record_event(
        guarantee_id=guarantee.pk,
        kind=Kind.CHECK_STATUS,
        text=guarantee.check_status_note,
        params={"detail": said},
    )
    state = State(guarantee.state)
    close = guarantee.close_requested
    guarantee.close_requested = False
    if state != State.NEW:
        return  # past Reserve, the answer cannot tell which step InfinitePay has reached
    if found == Holding.HOLDS:
        # The Reserve took effect: adopt it; then release it if ops asked to close.
        _clear_failure(guarantee)
        _take_result_data(guarantee, result)
        if close:
            record_event(
                guarantee_id=guarantee.pk,
                kind=Kind.STATE_CHANGED,
                text=wording.ADOPTED_TO_CANCEL,
                params={"from_state": State.NEW, "to_state": State.RESERVED},
            )
            guarantee.state = State.RESERVED
            _ask_for(guarantee, Step.CANCEL)
        else:
            _move(guarantee, State.RESERVED)
        return
    if close and found == Holding.HOLDS_NOTHING:
        # Ops asked to close, and InfinitePay holds nothing for it: close it on our side.
        _clear_failure(guarantee)
        _move(guarantee, State.CANCELED)
        return
    if close:
        guarantee.check_status_note = wording.CHECK_NOT_CLOSED
    if not guarantee.failed_step:
        _fail(guarantee, Step.RESERVE, wording.RESERVE_NOT_CONFIRMED, said)


def _said(result: Result) -> str:
    return "; ".join(f"{e.code} {e.message}".strip() for e in result.errors) or (
        f"STATUS {result.status}"
    )


def _take_result_data(guarantee: Guarantee, result: Result) -> None:
    guarantee.ref_no = result.ref_no or guarantee.ref_no
    guarantee.debtor_id = result.debtor_id or guarantee.debtor_id
    if result.guaranteed_amount is not None:
        guarantee.guaranteed_amount = result.guaranteed_amount
    if result.corrected_debtor is not None:
        guarantee.corrected_debtor = result.corrected_debtor.to_json()
    guarantee.last_error_code = ""
    guarantee.last_error_message = ""


def _move(guarantee: Guarantee, state: State) -> None:
    """Enter a state: the payment's status follows, and the next automatic step is asked for."""
    if guarantee.state != state:
        record_event(
            guarantee_id=guarantee.pk,
            kind=Kind.STATE_CHANGED,
            text=wording.STATE_CHANGED,
            params={"from_state": guarantee.state, "to_state": state},
        )
    guarantee.state = state
    guarantee.attempts = 0
    # The state moved on: a failure recorded meanwhile (by a worker the sweeper replaced,
    # whose call failed while its successor's took effect) no longer stands.
    guarantee.failed_step = ""
    guarantee.failure_reason = ""
    _sync_payment_status(guarantee)
    integration = guarantee.integration
    step = next_automatic_step(
        state,
        auto_capture=integration.auto_capture,
        auto_activation=integration.auto_activation,
    )
    if step is not None:
        _ask_for(guarantee, step)


def _fail(guarantee: Guarantee, step: Step, reason: str, detail: str) -> None:
    """Mark the step failed beside the state, which does not move; ops Retry or Cancel.

    `reason` is one of the msgids of `infinitepay.wording` (ops read it in their language);
    `detail` what InfinitePay or the connection said, kept as it came.
    """
    guarantee.failed_step = step
    guarantee.pending_step = ""
    guarantee.pending_since = None
    guarantee.next_retry_at = None
    guarantee.failure_reason = reason
    guarantee.last_error_message = detail
    record_event(
        guarantee_id=guarantee.pk,
        kind=Kind.STEP_FAILED,
        text=wording.STEP_FAILED,
        params={"step": step, "reason": reason, "detail": detail},
    )
    logger.warning("Guarantee %s: %s failed: %s: %s", guarantee.order_id, step, reason, detail)


def _clear_failure(guarantee: Guarantee) -> None:
    guarantee.failed_step = ""
    guarantee.failure_reason = ""
    guarantee.last_error_code = ""
    guarantee.last_error_message = ""


def _ask_for(guarantee: Guarantee, step: Step) -> None:
    """Make `step` pending; `_save` enqueues it once the row is written."""
    guarantee.pending_step = step
    guarantee.pending_since = timezone.now()
    guarantee.attempts = 0
    guarantee._asked = step  # type: ignore[attr-defined]


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
    exchange = result.exchange if result is not None else error.exchange if error else None
    errors = result.errors if result is not None else ()
    return ApiCall.objects.create(
        guarantee=guarantee,
        operation=exchange.operation.value if exchange else step.value,
        step=step,
        attempt=guarantee.attempts,
        outcome=outcome,
        url=(exchange.url if exchange else "")[:255],
        request_xml=exchange.request_xml if exchange else "",
        response_xml=(exchange.response_xml or "") if exchange else "",
        http_status=exchange.http_status if exchange else None,
        provider_status=(result.status if result is not None else "")[:8],
        error_codes=[e.code for e in errors],
        error_messages=[e.message for e in errors] or ([error.message] if error else []),
        duration_ms=exchange.duration_ms if exchange else 0,
        task_id=(task_id or "")[:64],
    )


def _credentials_accepted(integration_id: int) -> None:
    InfinitePayIntegration.objects.filter(
        pk=integration_id, credentials_rejected_at__isnull=False
    ).update(credentials_rejected_at=None)


def _enqueue_on_commit(guarantee_id: int, step: Step) -> None:
    from .tasks import run_step

    run_step.delay_on_commit(guarantee_id, step.value)  # type: ignore[attr-defined]  # stubs lag


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
                record_event(
                    guarantee_id=guarantee_id,
                    kind=Kind.SWEEPER,
                    text=wording.REQUEUED,
                    params={"step": step},
                )
                requeued += 1
    stuck = Guarantee.objects.filter(in_flight_since__lt=lease_cutoff).exclude(step_in_flight="")
    for guarantee_id, step in stuck.values_list("pk", "step_in_flight"):
        with transaction.atomic():
            touched = Guarantee.objects.filter(
                pk=guarantee_id, step_in_flight=step, in_flight_since__lt=lease_cutoff
            ).update(step_in_flight="", in_flight_since=None, pending_step=step, pending_since=now)
            if touched:
                _enqueue_on_commit(guarantee_id, Step(step))
                record_event(
                    guarantee_id=guarantee_id,
                    kind=Kind.SWEEPER,
                    text=wording.TAKEN_OVER,
                    params={"step": step},
                )
                taken_over += 1
    if requeued or taken_over:
        logger.warning("Sweeper: %d step(s) enqueued again, %d taken over", requeued, taken_over)
    return SweepReport(requeued=requeued, taken_over=taken_over)
