"""The registry of integration types.

Each app that provides a payment method subclasses `IntegrationType` and registers an
instance in its `AppConfig.ready()`. Checkout, payment rules and the integrations admin
speak to a type only through that class, so a new provider never touches them.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NamedTuple, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.choices import flatten_choices
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_noop

from backoffice.phrases import Phrase

if TYPE_CHECKING:
    from .models import Integration

# The model a type keeps its integrations in: Integration or a subclass of it.
IntegrationT = TypeVar("IntegrationT", bound="Integration")


class ConnectionCheck(NamedTuple):
    """What checking an integration's connection came to, in words for the admin.

    `message` is best a `Phrase` naming the integration as its `integration` parameter
    (e.g. Phrase(gettext_noop("%(integration)s: connected."), {"integration": name})): it is
    shown in the reader's language, and kept so as the integration's last check. Plain text
    starting with "<integration>: " is kept as it is.
    """

    connected: bool | None  # None: the type calls no provider, so there is nothing to check
    message: Phrase | str


class Health(NamedTuple):
    """An integration's health for the integrations list: its verdict and its line in words
    ("OK · last successful call just now")."""

    ok: bool
    line: str


@dataclass(frozen=True)
class InvoiceTerms:
    """How the buyer pays a method's invoice: `days` after the invoice date, due on
    `due_on` once that date is known (None until the invoice is issued)."""

    days: int
    due_on: date | None


class IntegrationType(ABC, Generic[IntegrationT]):
    """What every integration type offers to the rest of the product.

    A type names itself (`key`, `name`, `model`) and says when its method is offered, how
    a payment starts and how its status reads. Everything else has a default that fits a
    method with no provider to call and nothing to ask the buyer; a type overrides what it
    has.

    The data a method takes from the buyer at checkout (InfinitePay: e-mail and legal form)
    is the type's: its `method_form_class` asks for it and checks it, checkout keeps what
    the form cleaned as the cart's and then the payment's `method_data` (JSON) and never
    names a field of it.
    """

    key: ClassVar[str] = ""  # short, stable, lower case; the prefix of method identifiers
    name: ClassVar[str | Promise] = ""  # shown to admins (gettext_lazy for a translated name)
    # The form of the data the method takes at checkout; None: it takes nothing.
    method_form_class: ClassVar[type[forms.Form] | None] = None
    # The legend of that form at checkout; the type's name when empty.
    method_form_title: ClassVar[str] = ""
    # A template the admin order page includes per payment (it reads the type's own data
    # through the payment's reverse relations); empty: nothing more to show.
    admin_payment_template: ClassVar[str] = ""
    # Whether "Paid in full" means the provider guarantees the invoice, which the buyer
    # still pays when due: the shop then says "Guaranteed by …" instead.
    guarantees_invoice: ClassVar[bool] = False

    @property
    @abstractmethod
    def model(self) -> type[IntegrationT]:
        """The concrete model (Integration or a subclass) holding the type's settings."""

    @abstractmethod
    def is_applicable(self, integration: IntegrationT, context: Any) -> bool:
        """Whether this method may be offered for a checkout context."""

    @abstractmethod
    def start(self, payment: Any) -> None:
        """Begin paying a placed order; called inside the order's transaction."""

    @abstractmethod
    def describe_status(self, payment: Any) -> str:
        """The payment status in the words a buyer reads (Oro's words)."""

    def invoice_terms(self, payment: Any) -> InvoiceTerms | None:
        """When the buyer's invoice falls due, for a method that bills on terms it knows."""
        return None

    def is_confirming(self, payment: Any) -> bool:
        """Whether the payment is being confirmed right now (a provider call under way or
        queued), so that the buyer's order page follows it until it settles."""
        return False

    # --- The method's data at checkout ------------------------------------------------------

    def checkout_form(
        self,
        *,
        data: Mapping[str, Any] | None = None,
        method_data: Mapping[str, Any] | None = None,
        context: Any = None,
        prefix: str | None = None,
    ) -> forms.Form | None:
        """The form asking for the method's data, bound to `data` if given; None if it takes none.

        `method_data` is what the buyer gave before, `context` the checkout context; they
        fill the form's initial values.
        """
        if self.method_form_class is None:
            return None
        initial = self.initial_method_data(method_data=method_data or {}, context=context)
        return self.method_form_class(data, initial=initial, prefix=prefix)

    def initial_method_data(self, *, method_data: Mapping[str, Any], context: Any) -> dict:
        """What the form shows before the buyer changes it: what they gave before."""
        return dict(method_data)

    def clean_method_data(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Check the buyer's data with the method's form; return what a payment keeps (JSON).

        Raise `ValidationError` naming each field that is wrong. A method that takes no
        data keeps nothing, whatever it is given.
        """
        form = self.checkout_form(data=data)
        if form is None:
            return {}
        if not form.is_valid():
            raise ValidationError(form_errors(form), code="invalid_method_data")
        # Kept as the form takes it back (a chosen object by its key, dates as ISO text),
        # so that stored data can be checked again with the same form.
        prepared = {
            name: form.fields[name].prepare_value(value)
            for name, value in form.cleaned_data.items()
        }
        return json.loads(json.dumps(prepared, cls=DjangoJSONEncoder))

    def describe_method_data(self, data: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The method's data as (label, value) lines, for the review page and the back office."""
        form = self.checkout_form()
        if form is None:
            return []
        lines = []
        for name, field in form.fields.items():
            if name not in data:
                continue
            value = data[name]
            if isinstance(field, forms.ChoiceField):
                choices: Any = field.choices  # (value, label) pairs, perhaps in groups
                value = dict(flatten_choices(choices)).get(value, value)
            lines.append((str(form[name].label), str(value)))
        return lines

    # --- The back office -----------------------------------------------------------------

    def check_connection(self, integration: IntegrationT) -> ConnectionCheck:
        """Make one authenticated provider call and say how it went; offered as an admin action."""
        return ConnectionCheck(
            None,
            Phrase(
                gettext_noop("%(integration)s: makes no provider calls."),
                {"integration": str(integration)},
            ),
        )

    def health(self, integration_ids: list[int]) -> dict[int, Health]:
        """The health of each integration for the integrations list, all listed rows at once."""
        return {}


def form_errors(form: forms.Form) -> list[str]:
    """A form's errors, each after its field's label ("E-mail: Enter a valid address.")."""
    return [
        gettext("%(field)s: %(error)s") % {"field": form[name].label, "error": error}
        if name in form.fields
        else str(error)
        for name, errors in form.errors.items()
        for error in errors
    ]


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


_types: dict[str, IntegrationType[Any]] = {}


def register(integration_type: IntegrationType[Any]) -> None:
    """Add a type; registering the same key twice is a programming error."""
    if not isinstance(integration_type, IntegrationType):
        raise TypeError(f"{integration_type!r} is not an IntegrationType")
    if not integration_type.key or not integration_type.name:
        raise ValueError(f"{type(integration_type).__name__} needs a key and a name")
    existing = _types.get(integration_type.key)
    if existing is not None and existing is not integration_type:
        raise ValueError(f"Integration type {integration_type.key!r} is registered already")
    _types[integration_type.key] = integration_type


def unregister(key: str) -> None:
    """Remove a type: for tests that plug one in for a while. Unknown keys are an error."""
    try:
        del _types[key]
    except KeyError:
        raise UnknownIntegrationType(f"Unknown integration type: {key!r}") from None


def get_type(key: str) -> IntegrationType[Any]:
    try:
        return _types[key]
    except KeyError:
        raise UnknownIntegrationType(f"Unknown integration type: {key!r}") from None


def get_method_type(identifier: str) -> IntegrationType[Any]:
    """The type of a payment method, by its identifier `<type>_<id>`."""
    return get_type(MethodIdentifier.parse(identifier).type_key)


def all_types() -> list[IntegrationType[Any]]:
    return sorted(_types.values(), key=lambda t: str(t.name))


def type_choices() -> list[tuple[str, str | Promise]]:
    return [(t.key, t.name) for t in all_types()]
