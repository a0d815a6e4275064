"""Everything that can go wrong on a call that is not an answer from InfinitePay.

An approval or a denial is a `Result`, never an error. The client raises only these; each
carries the redacted exchange so that the failed call can be recorded too.
"""

from __future__ import annotations

from .messages import Exchange


class InfinitePayError(Exception):
    """Base of every failure of a call to InfinitePay."""

    # Transient failures may succeed when the same call is repeated (same ORDER_ID).
    transient = False
    # Whether the call may have taken effect at InfinitePay although no answer came back.
    outcome_unknown = False

    def __init__(self, message: str, *, exchange: Exchange | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.exchange = exchange


class TransientError(InfinitePayError):
    transient = True


class ProviderUnreachable(TransientError):
    """No connection could be made: the request never reached InfinitePay."""


class ServiceDescriptionUnreadable(TransientError):
    """The endpoint's WSDL could not be loaded or used: nothing was sent."""


class ProviderTimeout(TransientError):
    """The request was sent but no answer came in time: it may have taken effect."""

    outcome_unknown = True


class ConnectionLost(TransientError):
    """The connection broke after the request was sent: it may have taken effect."""

    outcome_unknown = True


class ProviderServerError(TransientError):
    """InfinitePay failed on its side (HTTP 5xx or a SOAP server fault)."""

    outcome_unknown = True


class AuthenticationFailed(InfinitePayError):
    """Username, password, client reference or secret were rejected."""


class RequestRejected(InfinitePayError):
    """The request cannot be sent as it is (it does not fit the contract), or InfinitePay
    refused it as malformed (a SOAP client fault). Repeating it would not help."""


class MalformedAnswer(InfinitePayError):
    """The answer is not a well-formed InfinitePay response."""

    outcome_unknown = True
