"""The guarantee state machine: every state, step and transition in one place.

NEW ─reserve─► RESERVED ─capture─► CAPTURED ─activate─► ACTIVATED ─apply─► SETTLED
 │               │                    │                    │
 └► DECLINED     └─cancel─► CANCELED  └─cancel─► CANCELED  └► ACTIVATION_DENIED ─cancel─► CANCELED

Any step whose retries run out leaves the guarantee FAILED; Retry resumes that step from
the state it started in (kept in `resume_state`).
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
    FAILED = "failed"

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
        frozenset({State.RESERVED, State.CAPTURED, State.ACTIVATION_DENIED}),
        State.CANCELED,
        None,
    ),
    Step.APPLY_TRANSACTION: Transition(
        Step.APPLY_TRANSACTION, frozenset({State.ACTIVATED}), State.SETTLED, None
    ),
}

# States in which nothing more happens by itself or by an ops action (but check status).
FINAL_STATES = frozenset({State.SETTLED, State.DECLINED, State.CANCELED})


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


# What check status reports (the order's state at InfinitePay) means for our guarantee.
PROVIDER_STATES: dict[str, State] = {
    "RESERVED": State.RESERVED,
    "CAPTURED": State.CAPTURED,
    "ACTIVATED": State.ACTIVATED,
    "SETTLED": State.SETTLED,
    "CANCELED": State.CANCELED,
    "DENIED": State.DECLINED,
    "ACTIVATION_DENIED": State.ACTIVATION_DENIED,
}


def reconciled_state(provider_state: str) -> State | None:
    """Our state for what InfinitePay reports; None when it reports something unknown."""
    return PROVIDER_STATES.get(provider_state)
