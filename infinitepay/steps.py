"""Each step of the guarantee pipeline in one table.

A step's entry says everything the pipeline and the back office need of it: the SOAP
operation it calls, how its request is built, what its claim reads along with the guarantee,
the states it may start from and where an answer leads, and the permission that lets ops ask
for it. States and steps themselves are named in `infinitepay.states`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from . import order_data
from .messages import Operation, Request
from .models import Guarantee
from .states import State, Step


class InvalidTransition(Exception):
    """A step that the guarantee's state does not allow; nothing was changed."""


@dataclass(frozen=True)
class StepSpec:
    step: Step
    operation: Operation  # the SOAP operation it calls
    build: Callable[[Guarantee, date], Request]  # its request, from the guarantee and today
    claim_joins: tuple[str, ...]  # what the claim reads with the guarantee, for `build`
    sources: frozenset[State]  # the states it may start from
    approved: State | None  # where an approval leads (None: check status, which reconciles)
    denied: State | None  # where a business denial leads (None: the step fails)
    permission: str  # the Guarantee permission that lets ops ask for it
    effect: str | Promise  # what the call does at InfinitePay, in plain words, for ops


ANY_STATE = frozenset(State)
# Only Reserve sends the debtor: joining customer and buyer for every step made the claim the
# costliest query of a step (its planning, measured by bench/pipeline.py).
ORDER = ("integration", "payment__order")
DEBTOR = (*ORDER, "payment__order__customer", "payment__order__buyer__user")

STEPS: dict[Step, StepSpec] = {
    spec.step: spec
    for spec in [
        StepSpec(
            step=Step.RESERVE,
            operation=Operation.RESERVE,
            build=order_data.reserve_request,
            claim_joins=DEBTOR,
            sources=frozenset({State.NEW}),
            approved=State.RESERVED,
            denied=State.DECLINED,
            permission="retry_guarantee",  # ops only ever ask for it again
            effect=gettext_lazy(
                "InfinitePay checks the buyer and, if it approves, holds the amount against the "
                "buyer's credit limit."
            ),
        ),
        StepSpec(
            step=Step.CAPTURE,
            operation=Operation.CAPTURE,
            build=order_data.capture_request,
            claim_joins=ORDER,
            sources=frozenset({State.RESERVED}),
            approved=State.CAPTURED,
            denied=None,
            permission="capture_guarantee",
            effect=gettext_lazy(
                "InfinitePay records the invoice amount as owed by the buyer; the buyer's limit "
                "stays held until activation."
            ),
        ),
        StepSpec(
            step=Step.ACTIVATE,
            operation=Operation.ACTIVATE,
            build=order_data.activate_request,
            claim_joins=ORDER,
            sources=frozenset({State.CAPTURED}),
            approved=State.ACTIVATED,
            denied=State.ACTIVATION_DENIED,
            permission="activate_guarantee",
            effect=gettext_lazy(
                "InfinitePay guarantees the invoice from the delivery date given, or denies it "
                "(the amount then still holds the buyer's limit until it is canceled)."
            ),
        ),
        StepSpec(
            step=Step.CANCEL,
            operation=Operation.CANCEL,
            build=order_data.cancel_request,
            claim_joins=ORDER,
            # From NEW (a failed Reserve), check status runs first (services.request_step).
            sources=frozenset({State.NEW, State.RESERVED, State.CAPTURED, State.ACTIVATION_DENIED}),
            approved=State.CANCELED,
            denied=None,
            permission="cancel_guarantee",
            effect=gettext_lazy(
                "InfinitePay releases the buyer's limit by the amount held; the payment becomes "
                "Canceled and the buyer may pay the order another way."
            ),
        ),
        StepSpec(
            step=Step.APPLY_TRANSACTION,
            operation=Operation.APPLY_TRANSACTION,
            build=order_data.apply_transaction_request,
            claim_joins=ORDER,
            sources=frozenset({State.ACTIVATED}),
            approved=State.SETTLED,
            denied=None,
            permission="apply_transaction_guarantee",
            effect=gettext_lazy(
                "InfinitePay records that the buyer paid the invoice: the guarantee is settled "
                "and the amount no longer counts against the buyer's limit."
            ),
        ),
        StepSpec(
            step=Step.CHECK_STATUS,
            operation=Operation.CHECK_STATUS,
            build=order_data.check_status_request,
            claim_joins=ORDER,
            sources=ANY_STATE,
            approved=None,
            denied=None,
            permission="check_status_guarantee",
            effect=gettext_lazy(
                "InfinitePay only says whether it holds the order; nothing changes there. A "
                "Reserve it confirms is taken over here."
            ),
        ),
    ]
}


def can(step: Step, state: State) -> bool:
    return state in STEPS[step].sources


# Why a step does not fit a state, one sentence per step (each language words it its way).
REFUSALS = {
    Step.RESERVE: gettext_lazy("Cannot reserve a guarantee in state %(state)s."),
    Step.CAPTURE: gettext_lazy("Cannot capture a guarantee in state %(state)s."),
    Step.ACTIVATE: gettext_lazy("Cannot activate a guarantee in state %(state)s."),
    Step.CANCEL: gettext_lazy("Cannot cancel a guarantee in state %(state)s."),
    Step.APPLY_TRANSACTION: gettext_lazy(
        "Cannot apply a transaction to a guarantee in state %(state)s."
    ),
    Step.CHECK_STATUS: gettext_lazy("Cannot check the status of a guarantee in state %(state)s."),
}


def transition_for(step: Step, state: State) -> StepSpec:
    """Return the entry of `step` if `state` allows it, or raise InvalidTransition."""
    if not can(step, state):
        raise InvalidTransition(REFUSALS[step] % {"state": state.label})
    return STEPS[step]
