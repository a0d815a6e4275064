"""Everything that can go wrong on a call that is not an answer from InfinitePay.

An approval or a denial is a `Result`, never an error. The client raises only these; each
carries the redacted exchange so that the failed call can be recorded too.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from .messages import Exchange


class InfinitePayError(Exception):
    """Base of every failure of a call to InfinitePay."""

    # Transient failures may succeed when the same call is repeated (same ORDER_ID).
    transient = False
    # Whether the call may have taken effect at InfinitePay although no answer came back.
    outcome_unknown = False
    # Why the step failed, as ops read it: an English msgid, stored as it is and translated
    # when shown (infinitepay.wording); the message is the detail, kept as it came.
    reason = gettext_noop("The call to InfinitePay failed")

    def __init__(self, message: str, *, exchange: Exchange | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.exchange = exchange


class TransientError(InfinitePayError):
    transient = True


class ProviderUnreachable(TransientError):
    """No connection could be made: the request never reached InfinitePay."""

    reason = gettext_noop("InfinitePay could not be reached")


class ServiceDescriptionUnreadable(TransientError):
    """The endpoint's WSDL could not be loaded or used: nothing was sent."""

    reason = gettext_noop("InfinitePay's service description could not be read")


class ProviderTimeout(TransientError):
    """The request was sent but no answer came in time: it may have taken effect."""

    reason = gettext_noop("InfinitePay did not answer in time")
    outcome_unknown = True


class ConnectionLost(TransientError):
    """The connection broke after the request was sent: it may have taken effect."""

    reason = gettext_noop("The connection broke before InfinitePay answered")
    outcome_unknown = True


class ProviderServerError(TransientError):
    """InfinitePay failed on its side (HTTP 5xx or a SOAP server fault)."""

    reason = gettext_noop("InfinitePay failed on its side")
    outcome_unknown = True


class AuthenticationFailed(InfinitePayError):
    """Username, password, client reference or secret were rejected."""

    reason = gettext_noop("Credentials rejected")


class RequestRejected(InfinitePayError):
    """The request cannot be sent as it is (it does not fit the contract), or InfinitePay
    refused it as malformed (a SOAP client fault). Repeating it would not help."""

    reason = gettext_noop("Request rejected: it does not fit InfinitePay's contract")


class MalformedAnswer(InfinitePayError):
    """The answer is not a well-formed InfinitePay response."""

    reason = gettext_noop("InfinitePay's answer could not be read")
    outcome_unknown = True
