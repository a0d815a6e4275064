"""What ops do to guarantees from the back office: one operation on one or many guarantees.

Each guarantee goes through its own service call, in its own transaction with its own row
lock, and its step is enqueued when that transaction commits. A guarantee the operation
does not fit (wrong state, a step already under way) is skipped with the reason the
service gave; nothing is sent for it. The admin's buttons and bulk actions both land here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext, gettext_lazy, gettext_noop, pgettext_lazy

from . import services
from .models import Guarantee
from .states import State, Step
from .steps import STEPS, InvalidTransition, can


class Operation(StrEnum):
    RETRY = "retry"
    CAPTURE = "capture"
    ACTIVATE = "activate"
    CANCEL = "cancel"
    CHECK_STATUS = "check_status"
    APPLY_TRANSACTION = "apply_transaction"
    CORRECT_DEBTOR_DATA = "correct_debtor_data"

    @property
    def label(self) -> str:
        return str(LABELS[self])

    @property
    def permission(self) -> str:
        """The codename of the Guarantee permission that allows it."""
        if self.step is not None:
            return STEPS[self.step].permission
        return "retry_guarantee"  # Retry, and Correct debtor data: a retry with the data right

    @property
    def step(self) -> Step | None:
        """The step it asks for; None for what resumes the step that failed."""
        if self in (Operation.RETRY, Operation.CORRECT_DEBTOR_DATA):
            return None
        return Step(self.value)

    @property
    def confirm_label(self) -> str:
        """The button that confirms it on its confirmation page."""
        return str(CONFIRM_LABELS[self])

    @property
    def logged(self) -> str:
        """What the admin's log of a guarantee keeps of it: a msgid, shown translated."""
        return LOGGED[self]

    def label_for(self, guarantee: Guarantee) -> str:
        """The label ops read on a guarantee's page: what the operation does to this one."""
        if self == Operation.CANCEL and guarantee.state == State.ACTIVATION_DENIED:
            return gettext("Cancel to release the limit")
        if self == Operation.CANCEL and guarantee.state == State.NEW:
            return gettext("Cancel (check status, then release or close)")
        return self.label


LABELS = {
    Operation.RETRY: pgettext_lazy("operation", "Retry"),
    Operation.CAPTURE: pgettext_lazy("operation", "Capture"),
    Operation.ACTIVATE: pgettext_lazy("operation", "Activate"),
    Operation.CANCEL: pgettext_lazy("operation", "Cancel"),
    Operation.CHECK_STATUS: pgettext_lazy("operation", "Check status"),
    Operation.APPLY_TRANSACTION: pgettext_lazy("operation", "Apply transaction"),
    Operation.CORRECT_DEBTOR_DATA: pgettext_lazy("operation", "Correct debtor data"),
}

CONFIRM_LABELS = {
    Operation.RETRY: gettext_lazy("Yes, retry"),
    Operation.CAPTURE: gettext_lazy("Yes, capture"),
    Operation.ACTIVATE: gettext_lazy("Yes, activate"),
    Operation.CANCEL: gettext_lazy("Yes, cancel and release the limit"),
    Operation.CHECK_STATUS: gettext_lazy("Yes, check the status"),
    Operation.APPLY_TRANSACTION: gettext_lazy("Yes, apply the buyer's payment"),
    Operation.CORRECT_DEBTOR_DATA: gettext_lazy("Correct and retry the Reserve"),
}

# The admin's log keeps text as it is given: the English msgid, translated when shown.
LOGGED = {
    Operation.RETRY: gettext_noop("Retry requested."),
    Operation.CAPTURE: gettext_noop("Capture requested."),
    Operation.ACTIVATE: gettext_noop("Activate requested."),
    Operation.CANCEL: gettext_noop("Cancel requested."),
    Operation.CHECK_STATUS: gettext_noop("Check status requested."),
    Operation.APPLY_TRANSACTION: gettext_noop("Apply transaction requested."),
    Operation.CORRECT_DEBTOR_DATA: gettext_noop("Correct debtor data requested."),
}


@dataclass(frozen=True)
class PlannedCall:
    """The call an operation would make at InfinitePay for one guarantee."""

    step: Step | None  # None: the operation does not fit the guarantee; nothing is sent
    then_cancel: bool = False  # a check status that releases what InfinitePay holds

    @property
    def soap_operation(self) -> str:
        return STEPS[self.step].operation.value if self.step is not None else ""


def planned_call(operation: Operation, guarantee: Guarantee) -> PlannedCall:
    """What `operation` would call at InfinitePay for `guarantee`, as it stands now."""
    if operation not in available_operations(guarantee):
        return PlannedCall(None)
    if operation == Operation.RETRY:
        return PlannedCall(Step(guarantee.failed_step))
    if operation == Operation.CORRECT_DEBTOR_DATA:
        return PlannedCall(Step.RESERVE)
    if operation == Operation.CANCEL and guarantee.state == State.NEW:
        # Whether InfinitePay holds anything is not known: it is asked first.
        return PlannedCall(Step.CHECK_STATUS, then_cancel=True)
    assert operation.step is not None
    return PlannedCall(operation.step)


@dataclass(frozen=True)
class Skipped:
    guarantee_id: int
    order_id: str
    reason: str


@dataclass(frozen=True)
class OperationReport:
    queued: list[int] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def apply_to_guarantees(
    *,
    guarantee_ids: Iterable[int],
    operation: Operation,
    delivery_date: date | None = None,
    debtor_email: str = "",
    legal_form: str = "",
) -> OperationReport:
    """Ask for `operation` on each guarantee; report which were queued and which skipped why.

    Activate needs the real `delivery_date`; it is sent to InfinitePay with the activation.
    """
    if operation == Operation.ACTIVATE and delivery_date is None:
        raise ValueError("Activate needs the delivery date.")
    rows = Guarantee.objects.filter(pk__in=list(guarantee_ids)).order_by("pk")
    report = OperationReport()
    for guarantee_id, order_id, ordered_at in rows.values_list(
        "pk", "order_id", "payment__order__created_at"
    ):
        reason = _delivery_date_refusal(delivery_date, placed_on=timezone.localdate(ordered_at))
        if reason:
            report.skipped.append(Skipped(guarantee_id, order_id, reason))
            continue
        try:
            if operation == Operation.CORRECT_DEBTOR_DATA:
                services.correct_debtor_data(
                    guarantee_id=guarantee_id, email=debtor_email, legal_form=legal_form
                )
            else:
                _apply(guarantee_id, operation, delivery_date)
        except (InvalidTransition, services.StepInProgress, ValidationError) as refusal:
            report.skipped.append(Skipped(guarantee_id, order_id, str(refusal)))
        else:
            report.queued.append(guarantee_id)
    return report


def available_operations(guarantee: Guarantee) -> list[Operation]:
    """The operations that fit the guarantee as it stands (the services check again)."""
    if guarantee.pending_step or guarantee.step_in_flight:
        return []
    state = State(guarantee.state)
    if guarantee.failed_step:
        # Retry the step (with the debtor data put right), or close the guarantee.
        correcting = (
            [Operation.CORRECT_DEBTOR_DATA] if guarantee.failed_step == Step.RESERVE else []
        )
        closing = [Operation.CANCEL] if can(Step.CANCEL, state) else []
        return [Operation.RETRY, *correcting, *closing, Operation.CHECK_STATUS]
    return [op for op in Operation if op.step is not None and can(op.step, state)]


def _delivery_date_refusal(delivery_date: date | None, *, placed_on: date) -> str:
    """Why a delivery date cannot be real for an order placed on `placed_on`, or ""."""
    if delivery_date is None:
        return ""
    day = formats.date_format(delivery_date, "SHORT_DATE_FORMAT")
    if delivery_date > timezone.localdate():
        return gettext("Delivered on %(day)s, which is in the future.") % {"day": day}
    if delivery_date < placed_on:
        return gettext("Delivered on %(day)s, before the order was placed.") % {"day": day}
    return ""


def _apply(guarantee_id: int, operation: Operation, delivery_date: date | None) -> None:
    if operation.step is None:  # Retry: the step that failed
        services.retry_guarantee(guarantee_id=guarantee_id)
    else:
        services.request_step(
            guarantee_id=guarantee_id, step=operation.step, delivery_date=delivery_date
        )
