"""The registry of integration types.

Each app that provides a payment method registers its type in `AppConfig.ready()`.
Checkout and payment rules only speak to a type through this interface, so a new
provider never touches them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .models import Integration


class IntegrationType(Protocol):
    """What every integration type offers to the rest of the product.

    Optional, looked up with getattr by the few places that use them:
    - `needs_debtor_data: bool`: checkout asks the buyer for e-mail and legal form;
    - `check_connection(integration) -> tuple[bool, str]`: one authenticated provider call,
      offered as an admin action;
    - `health(integration_ids) -> dict[int, str]`: a line per integration for the
      integrations list, computed for all listed rows at once;
    - `admin_payment_template: str`: a template the admin order page includes per payment
      (InfinitePay shows the guarantee's API calls there).
    """

    key: str  # short, stable, lower case; the prefix of method identifiers
    name: str  # shown to admins

    @property
    def model(self) -> type[Integration]:
        """The concrete model (a subclass of Integration) holding the type's settings."""

    def is_applicable(self, integration: Integration, context: Any) -> bool:
        """Whether this method may be offered for a checkout context."""

    def start(self, payment: Any) -> None:
        """Begin paying a placed order; called inside the order's transaction."""

    def describe_status(self, payment: Any) -> str:
        """The payment status in the words a buyer reads (Oro's words)."""


class UnknownIntegrationType(LookupError):
    pass


class UnknownPaymentMethod(LookupError):
    pass


@dataclass(frozen=True)
class MethodIdentifier:
    """`<type>_<id>`: how a payment method of one integration is named everywhere."""

    type_key: str
    integration_id: int

    def __str__(self) -> str:
        return f"{self.type_key}_{self.integration_id}"

    @classmethod
    def parse(cls, identifier: str) -> MethodIdentifier:
        type_key, _, raw_id = identifier.rpartition("_")
        if not type_key or not raw_id.isdigit():
            raise UnknownPaymentMethod(f"Not a payment method identifier: {identifier!r}")
        return cls(type_key=type_key, integration_id=int(raw_id))


_types: dict[str, IntegrationType] = {}


def register(integration_type: IntegrationType) -> None:
    """Add a type; registering the same key twice is a programming error."""
    existing = _types.get(integration_type.key)
    if existing is not None and existing is not integration_type:
        raise ValueError(f"Integration type {integration_type.key!r} is registered already")
    _types[integration_type.key] = integration_type


def get_type(key: str) -> IntegrationType:
    try:
        return _types[key]
    except KeyError:
        raise UnknownIntegrationType(f"Unknown integration type: {key!r}") from None


def all_types() -> list[IntegrationType]:
    return sorted(_types.values(), key=lambda t: t.name)


def type_choices() -> list[tuple[str, str]]:
    return [(t.key, t.name) for t in all_types()]
