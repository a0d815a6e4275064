"""The words the pipeline stores: why a step failed, what happened to a guarantee.

They are written by a worker, in no one's language, and read by ops in theirs. So the
database keeps each as its English msgid (marked with `gettext_noop` where it is written,
so that makemessages finds it) and its parameters apart, as data: a step's or a state's
code, a failure's reason, and the raw text InfinitePay or the connection gave (redacted),
which is shown as it came and never translated. `describe` puts them together in the
reader's language when a page is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from backoffice.phrases import Phrase

from .errors import (
    AuthenticationFailed,
    ConnectionLost,
    InfinitePayError,
    MalformedAnswer,
    ProviderServerError,
    ProviderTimeout,
    ProviderUnreachable,
    RequestRejected,
    ServiceDescriptionUnreadable,
)
from .messages import LEGAL_FORMS
from .states import Holding, State, Step

# Why a step failed, beyond the errors' own reasons (infinitepay.errors).
DECLINED = gettext_noop("Declined by InfinitePay")
RESERVE_NOT_CONFIRMED = gettext_noop("Reserve not confirmed by check status")
CHECK_STATUS_FAILED = gettext_noop("Check status failed")
ABANDONED = gettext_noop("Started again and again without finishing")
UNEXPECTED = gettext_noop("An error of ours around the call")
NOT_RECORDED = gettext_noop("The failure could not be recorded in full")

# What the last check status concluded (Guarantee.check_status_note).
CHECK_FINDINGS = {
    Holding.HOLDS: gettext_noop("Check status: InfinitePay holds the order"),
    Holding.HOLDS_NOTHING: gettext_noop("Check status: not found at InfinitePay"),
    Holding.UNKNOWN: gettext_noop(
        "Check status: InfinitePay's answer does not say whether it holds the order"
    ),
}
CHECK_NOT_CLOSED = gettext_noop(
    "Check status: InfinitePay's answer does not say it holds nothing, so the guarantee was "
    "not closed; ask InfinitePay"
)

# What happened to a guarantee (GuaranteeEvent.text), filled in from the event's parameters.
STATE_CHANGED = gettext_noop("%(from_state)s → %(to_state)s")
ADOPTED_TO_CANCEL = gettext_noop(
    "%(from_state)s → %(to_state)s: InfinitePay holds the order; Cancel releases it."
)
STEP_FAILED = gettext_noop("%(step)s failed: %(reason)s")
DEBTOR_CORRECTED = gettext_noop(
    "Debtor data corrected: %(email)s, legal form %(legal_form)s; Reserve asked for again."
)
REQUEUED = gettext_noop("%(step)s enqueued again: it waited too long.")
TAKEN_OVER = gettext_noop("%(step)s taken over: its worker stopped mid-step.")

# Every reason a step is marked failed for, in the order the guarantees list offers them.
FAILURE_REASONS: tuple[str, ...] = (
    ProviderUnreachable.reason,
    ProviderTimeout.reason,
    ConnectionLost.reason,
    ProviderServerError.reason,
    ServiceDescriptionUnreadable.reason,
    AuthenticationFailed.reason,
    RequestRejected.reason,
    MalformedAnswer.reason,
    InfinitePayError.reason,
    DECLINED,
    RESERVE_NOT_CONFIRMED,
    CHECK_STATUS_FAILED,
    ABANDONED,
    UNEXPECTED,
    NOT_RECORDED,
)


def failure_reason(reason: str) -> str:
    """A stored failure reason in the reader's language ("" when none was recorded)."""
    return gettext(reason) if reason else ""


def describe(msgid: str, params: Mapping[str, Any] | None = None) -> str:
    """A stored msgid with its parameters, in the reader's language: a `Phrase` read.

    Parameters named after what they hold are shown in words too: `step`, `state`,
    `from_state` and `to_state` by their labels, `reason` as a failure reason, `legal_form`
    by its label. A `detail` (raw text) is for the caller to show beside, as it came.
    """
    if not msgid:
        return ""
    phrase = Phrase(msgid, {name: _word(name, value) for name, value in (params or {}).items()})
    try:
        return str(phrase)
    except (KeyError, TypeError, ValueError):
        # A catalogue that lost a placeholder must not take the page down with it.
        with translation.override(None):
            try:
                return str(phrase)
            except (KeyError, TypeError, ValueError):
                return msgid


def _word(name: str, value: Any) -> Any:
    if name == "step" and value in Step.values:
        return Step(value).label
    if name in ("state", "from_state", "to_state") and value in State.values:
        return State(value).label
    if name == "reason":
        return failure_reason(value)
    if name == "legal_form":
        return dict(LEGAL_FORMS).get(value, value)
    return value
