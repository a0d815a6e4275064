"""The guarantee state machine: every state, step and transition in one place.

NEW ─reserve─► RESERVED ─capture─► CAPTURED ─activate─► ACTIVATED ─apply─► SETTLED
 │               │                    │                    │
 └► DECLINED     └─cancel─► CANCELED  └─cancel─► CANCELED  └► ACTIVATION_DENIED ─cancel─► CANCELED

FAILED is not a state: a step whose retries run out, or that meets an error waiting cannot
cure, is marked failed beside the state, which does not move (`Guarantee.failed_step`). Retry
clears the mark and runs the step again; Cancel closes the guarantee. Cancel of a NEW
guarantee (its Reserve failed) asks check status first: what InfinitePay holds is released
there, and a guarantee InfinitePay answers it does not hold is closed on our side.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    NEW = "new"
    RESERVED = "reserved"
    CAPTURED = "captured"
    ACTIVATED = "activated"
    SETTLED = "settled"
    DECLINED = "declined"
    ACTIVATION_DENIED = "activation_denied"
    CANCELED = "canceled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").upper()


class Step(StrEnum):
    """A provider call that moves a guarantee (check status only reconciles)."""

    RESERVE = "reserve"
    CAPTURE = "capture"
    ACTIVATE = "activate"
    CANCEL = "cancel"
    APPLY_TRANSACTION = "apply_transaction"
    CHECK_STATUS = "check_status"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class InvalidTransition(Exception):
    """A step that the guarantee's state does not allow; nothing was changed."""


@dataclass(frozen=True)
class Transition:
    step: Step
    sources: frozenset[State]
    approved: State  # where an approval leads
    denied: State | None  # where a business denial leads (None: a denial is a failure)


TRANSITIONS: dict[Step, Transition] = {
    Step.RESERVE: Transition(Step.RESERVE, frozenset({State.NEW}), State.RESERVED, State.DECLINED),
    Step.CAPTURE: Transition(Step.CAPTURE, frozenset({State.RESERVED}), State.CAPTURED, None),
    Step.ACTIVATE: Transition(
        Step.ACTIVATE, frozenset({State.CAPTURED}), State.ACTIVATED, State.ACTIVATION_DENIED
    ),
    Step.CANCEL: Transition(
        Step.CANCEL,
        frozenset({State.NEW, State.RESERVED, State.CAPTURED, State.ACTIVATION_DENIED}),
        State.CANCELED,
        None,
    ),
    Step.APPLY_TRANSACTION: Transition(
        Step.APPLY_TRANSACTION, frozenset({State.ACTIVATED}), State.SETTLED, None
    ),
}


def transition_for(step: Step, state: State) -> Transition:
    """Return the transition of `step` from `state`, or raise InvalidTransition."""
    transition = TRANSITIONS.get(step)
    if transition is None or state not in transition.sources:
        raise InvalidTransition(
            f"Cannot {step.value.replace('_', ' ')} a guarantee in state {state.label}."
        )
    return transition


def can(step: Step, state: State) -> bool:
    transition = TRANSITIONS.get(step)
    return transition is not None and state in transition.sources


def next_automatic_step(state: State, *, auto_capture: bool, auto_activation: bool) -> Step | None:
    """The step the pipeline runs by itself next: Reserve always, the others when automated."""
    if state == State.NEW:
        return Step.RESERVE
    if state == State.RESERVED and auto_capture:
        return Step.CAPTURE
    if state == State.CAPTURED and auto_capture and auto_activation:
        return Step.ACTIVATE
    return None


class Holding(StrEnum):
    """What a check-status answer says InfinitePay holds for the order (ours; see below)."""

    HOLDS = "holds"  # STATUS "1" with a REF_NO: InfinitePay knows the order
    HOLDS_NOTHING = "holds nothing"  # STATUS "0": InfinitePay does not hold it
    UNKNOWN = "unknown"  # anything else: we cannot tell, ops decide


def holding(*, status: str, ref_no: str) -> Holding:
    """Read a check-status answer, and no more than the public record supports.

    Only "1 with a REF_NO" says the order exists. Which step it has reached is not on record
    (ADD_INFO is shown, never read), so an answer never moves a guarantee past Reserve.
    """
    if status == "1" and ref_no:
        return Holding.HOLDS
    if status == "0":
        return Holding.HOLDS_NOTHING
    return Holding.UNKNOWN
