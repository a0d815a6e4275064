"""Rule expressions: a typed, safe condition language (rule-engine), never `eval`.

The variables and their types are declared here once. Unknown names, unknown
attributes, syntax errors and expressions too long or too deeply nested are found when a
rule is saved; errors that only show on real data (an index past the end, a division by
zero, a step budget run out) make the rule not apply. The limits that keep one expression
from stalling checkout live in payment_rules.bounded_engine.
"""

from __future__ import annotations

import decimal
import functools
from decimal import Decimal
from typing import Any

import rule_engine
from django.utils.translation import gettext, gettext_lazy
from rule_engine import DataType

from . import bounded_engine
from .context import Address, Buyer, CheckoutContext, Customer

ADDRESS = DataType.OBJECT(
    "Address",
    {
        "country": DataType.STRING,
        "region": DataType.STRING,
        "postal_code": DataType.STRING,
        "city": DataType.STRING,
    },
)
LINE_ITEM = DataType.OBJECT(
    "LineItem",
    {
        "sku": DataType.STRING,
        "name": DataType.STRING,
        "quantity": DataType.FLOAT,
        "unit_price": DataType.FLOAT,
        "vat_rate": DataType.FLOAT,
        "net_total": DataType.FLOAT,
    },
)
CUSTOMER = DataType.OBJECT("Customer", {"name": DataType.STRING, "vat_id": DataType.STRING})
BUYER = DataType.OBJECT("Buyer", {"email": DataType.STRING})

VARIABLES: dict[str, Any] = {
    "currency": DataType.STRING,
    "subtotal": DataType.FLOAT,
    "total": DataType.FLOAT,
    "billing_address": ADDRESS,
    "shipping_address": ADDRESS,
    "line_items": DataType.ARRAY(LINE_ITEM),
    "customer": CUSTOMER,
    "buyer": BUYER,
}

# Shown in the rule form and the docs; each one is checked by the tests.
EXAMPLES = [
    (
        'total > 500 and billing_address.country == "DE"',
        gettext_lazy("orders over 500 billed to Germany"),
    ),
    ("subtotal >= 100 and subtotal < 10000", gettext_lazy("net amount between 100 and 10,000")),
    ('customer.vat_id != ""', gettext_lazy("customers with a VAT ID")),
    (
        'billing_address.postal_code.starts_with("8")',
        gettext_lazy("billing postal codes starting with 8"),
    ),
    (
        'billing_address.region in ["DE-BY", "DE-BW"]',
        gettext_lazy("billing in Bavaria or Baden-Württemberg"),
    ),
    (
        "shipping_address.country != billing_address.country",
        gettext_lazy("shipping to another country than billing"),
    ),
    (
        '[i for i in line_items if i.sku == "PALLET"].length > 0',
        gettext_lazy("the cart holds the SKU PALLET"),
    ),
    ("line_items.length <= 20", gettext_lazy("at most 20 lines")),
    (
        'not buyer.email.as_lower.ends_with("@example.com")',
        gettext_lazy("buyers outside example.com"),
    ),
]

_CONTEXT = bounded_engine.BoundedContext(
    type_resolver=rule_engine.type_resolver_from_dict(VARIABLES)
)
_MAX_MESSAGE_LENGTH = 300
_EMPTY_ADDRESS = Address(country="")
_EMPTY_CUSTOMER = Customer(name="")
_EMPTY_BUYER = Buyer(email="")


class ExpressionError(Exception):
    """An expression that cannot be compiled; the message says what is wrong."""


class NotACondition(Exception):
    """An expression that gives a value of `type_name`, not true or false."""

    def __init__(self, type_name: str) -> None:
        super().__init__(type_name)
        self.type_name = type_name


def check_expression(text: str) -> str | None:
    """Return what is wrong with an expression, or None when it compiles."""
    try:
        compile_expression(text)
    except ExpressionError as error:
        return str(error)
    return None


def compile_expression(text: str) -> rule_engine.Rule:
    """Compile once per distinct text; rule-engine rules are immutable and reusable."""
    try:
        bounded_engine.check_length(text)  # before the cache, which keeps its texts
    except bounded_engine.LimitExceeded as error:
        raise ExpressionError(str(error.message)) from None
    compiled = _compile(text)
    if isinstance(compiled, Exception):
        # Described now, not when cached: in the language of whoever reads it.
        raise ExpressionError(describe_error(compiled))
    return compiled


def matches(text: str, variables: dict[str, Any]) -> bool:
    """Evaluate within the limits of one expression; raises ExpressionError or the reason."""
    return compile_expression(text).matches(variables)


def variables_for(context: CheckoutContext) -> dict[str, Any]:
    """The expression variables of one checkout; absent parts read as empty strings."""
    return {
        "currency": context.currency,
        "subtotal": Decimal(context.subtotal),
        "total": Decimal(context.total),
        "billing_address": context.billing_address or _EMPTY_ADDRESS,
        "shipping_address": context.shipping_address or _EMPTY_ADDRESS,
        "line_items": tuple(context.line_items),
        "customer": context.customer or _EMPTY_CUSTOMER,
        "buyer": context.buyer or _EMPTY_BUYER,
    }


def describe_error(error: Exception) -> str:
    """Say in plain words what is wrong, with rule-engine's suggestion when it has one."""
    message = _describe(error)
    if len(message) > _MAX_MESSAGE_LENGTH:
        message = message[: _MAX_MESSAGE_LENGTH - 1] + "…"
    return message


# A failure is cached too (the error, described when raised): an expression stored before a
# limit existed fails fast, once parsed.
@functools.lru_cache(maxsize=16384)
def _compile(text: str) -> rule_engine.Rule | Exception:
    try:
        rule = bounded_engine.BoundedRule(text, context=_CONTEXT)
    except Exception as error:  # whatever the text, saving says why and never errs
        # The cache keeps no frames alive: neither the error's own nor those of the error
        # it was raised from (a bad regular expression's re.error).
        error.__cause__ = error.__context__ = None
        return error.with_traceback(None)
    result_type = rule.statement.expression.result_type
    if result_type not in (DataType.BOOLEAN, DataType.UNDEFINED):
        return NotACondition(result_type.name.lower())
    return rule


def _describe(error: BaseException) -> str:
    if isinstance(error, ExpressionError):
        return str(error)
    if isinstance(error, NotACondition):
        return gettext(
            "The expression gives a %(type)s, not a condition: compare it, e.g. total > 500."
        ) % {"type": error.type_name}
    if isinstance(error, bounded_engine.Refused):
        return str(error.message)
    if isinstance(error, RecursionError):
        return gettext("Expression too deeply nested.")
    if isinstance(error, MemoryError):
        return gettext("Stopped: the expression needs too much memory.")
    if isinstance(error, decimal.DecimalException):
        return gettext("Arithmetic failed: a value is not a number, or is out of range.")
    if isinstance(error, rule_engine.errors.RegexSyntaxError):
        return gettext("Invalid regular expression %(pattern)s: %(reason)s.") % {
            "pattern": _excerpt(error.value),
            "reason": error.message,
        }
    if isinstance(error, rule_engine.errors.SymbolResolutionError):
        message = gettext("Unknown variable %(name)s.") % {"name": repr(error.symbol_name)}
    elif isinstance(error, rule_engine.errors.ObjectAttributeError):
        message = gettext("%(object)s has no attribute %(name)s (it has %(known)s).") % {
            "object": error.object.name,
            "name": repr(error.attribute_name),
            "known": ", ".join(error.object.attributes),
        }
    elif isinstance(error, rule_engine.errors.AttributeResolutionError):
        message = gettext("Unknown attribute %(name)s.") % {"name": repr(error.attribute_name)}
    elif isinstance(error, rule_engine.errors.RuleSyntaxError):
        token = getattr(error, "token", None)
        if token is not None:
            message = gettext("Syntax error near %(text)s.") % {"text": _excerpt(str(token.value))}
        else:
            message = gettext("Syntax error at the end.")
    else:
        # rule-engine's own words: the library speaks English only.
        message = f"{getattr(error, 'message', str(error)).rstrip('.').capitalize()}."
    suggestion = getattr(error, "suggestion", None)
    if suggestion:
        message += " " + gettext("Did you mean %(suggestion)s?") % {"suggestion": repr(suggestion)}
    return message


def _excerpt(text: str, length: int = 40) -> str:
    return repr(text if len(text) <= length else text[: length - 1] + "…")
