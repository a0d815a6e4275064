"""The guarantee's states and steps, and how check status is read.

Each step's transitions are in its entry of `infinitepay.steps.STEPS`.

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

from enum import StrEnum

from django.db import models
from django.utils.translation import pgettext_lazy


class State(models.TextChoices):
    NEW = "new", pgettext_lazy("guarantee state", "NEW")
    RESERVED = "reserved", pgettext_lazy("guarantee state", "RESERVED")
    CAPTURED = "captured", pgettext_lazy("guarantee state", "CAPTURED")
    ACTIVATED = "activated", pgettext_lazy("guarantee state", "ACTIVATED")
    SETTLED = "settled", pgettext_lazy("guarantee state", "SETTLED")
    DECLINED = "declined", pgettext_lazy("guarantee state", "DECLINED")
    ACTIVATION_DENIED = "activation_denied", pgettext_lazy("guarantee state", "ACTIVATION DENIED")
    CANCELED = "canceled", pgettext_lazy("guarantee state", "CANCELED")


class Step(models.TextChoices):
    """A provider call that moves a guarantee (check status only reconciles); each one's
    operation, request, transition and permission are in `infinitepay.steps`."""

    RESERVE = "reserve", pgettext_lazy("guarantee step", "Reserve")
    CAPTURE = "capture", pgettext_lazy("guarantee step", "Capture")
    ACTIVATE = "activate", pgettext_lazy("guarantee step", "Activate")
    CANCEL = "cancel", pgettext_lazy("guarantee step", "Cancel")
    APPLY_TRANSACTION = "apply_transaction", pgettext_lazy("guarantee step", "Apply transaction")
    CHECK_STATUS = "check_status", pgettext_lazy("guarantee step", "Check status")


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
