"""What the sandbox does with a call: credentials, the ledger, order states, idempotency.

Everything here is synchronous and never awaits, so one call's work is atomic on the event
loop; the web app still runs it under one asyncio lock so that this stays true if that
changes. The state lives in memory: the sandbox is for development and tests.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from . import money
from .accounts import (
    DEFAULT_LIMIT,
    DENIED_AT_ACTIVATION,
    DENIED_AT_RESERVE,
    SMALL_LIMIT,
    SMALL_LIMIT_AMOUNT,
    SUPPORTED_CURRENCY,
    Account,
    email_persona_of,
    normalize_vat_id,
    persona_of,
)
from .answers import APPROVED, DENIED, Answer, CorrectedDebtor, Settlement
from .contract import Operation
from .reader import DebtorData, Request
from .security import check_client_reference, check_security_code, parse_instant


class OrderState(StrEnum):
    """An order's state at the sandbox, sent in ADD_INFO (sandbox-only values)."""

    RESERVED = "RESERVED"
    CAPTURED = "CAPTURED"
    ACTIVATED = "ACTIVATED"
    SETTLED = "SETTLED"
    CANCELED = "CANCELED"
    DENIED = "DENIED"
    ACTIVATION_DENIED = "ACTIVATION_DENIED"


class ErrorCode(StrEnum):
    """ERROR_CD values (sandbox-only: callers may show them, never branch on them)."""

    ORDER_ID_MISSING = "1101"
    AMOUNT_UNREADABLE = "1102"
    VAT_ID_MISSING = "1103"
    UNKNOWN_ORDER = "2001"
    INVALID_STATE = "2002"
    ORDER_ID_CONFLICT = "2003"
    CURRENCY_NOT_SUPPORTED = "2004"
    INVALID_AMOUNT = "2005"
    REF_NO_MISMATCH = "2006"
    NO_GUARANTEE = "2007"
    LIMIT_EXCEEDED = "3001"
    DEBTOR_DENIED = "3002"
    ACTIVATION_DENIED = "3003"
    ODD_STATUS = "9001"


# The states in which the order holds a guarantee: check status says "1", GUAR_AMT is sent.
GUARANTEE_STATES = frozenset(
    {OrderState.RESERVED, OrderState.CAPTURED, OrderState.ACTIVATED, OrderState.SETTLED}
)
CANCELABLE_STATES = frozenset(
    {OrderState.RESERVED, OrderState.CAPTURED, OrderState.ACTIVATION_DENIED}
)
ODD_STATUS = "7"
REF_NO_START = 1_000_001
DEBTOR_ID_START = 10_001

Error = tuple[str, str]


@dataclass
class Debtor:
    vat_id: str
    debtor_id: int
    limit_cents: int
    reserved_cents: int = 0

    @property
    def available_cents(self) -> int:
        return self.limit_cents - self.reserved_cents

    def to_json(self) -> dict[str, Any]:
        return {
            "vat_id": self.vat_id,
            "debtor_id": str(self.debtor_id),
            "limit": str(money.amount(self.limit_cents)),
            "reserved": str(money.amount(self.reserved_cents)),
            "available": str(money.amount(self.available_cents)),
        }


@dataclass
class Order:
    order_id: str
    debtor: Debtor
    company_name: str
    email: str
    currency: str
    gross_cents: int
    net_cents: int | None
    corrected: CorrectedDebtor
    state: OrderState = OrderState.RESERVED
    ref_no: int | None = None  # none for a denied reserve
    holds_limit: bool = False  # whether gross_cents counts in the debtor's reserved amount
    denial: Error | None = None  # why the reserve was denied, given again on repeats
    invoice_id: str = ""
    settlement: Settlement | None = None
    history: list[str] = field(default_factory=list)

    @property
    def content(self) -> tuple[str, int, int | None, str]:
        """What makes a reserve the same one again (TRS_DT does not)."""
        return (self.currency, self.gross_cents, self.net_cents, self.debtor.vat_id)

    def to_json(self) -> dict[str, Any]:
        corrected = self.corrected
        return {
            "order_id": self.order_id,
            "ref_no": None if self.ref_no is None else str(self.ref_no),
            "state": self.state.value,
            "vat_id": self.debtor.vat_id,
            "debtor_id": str(self.debtor.debtor_id),
            "company_name": self.company_name,
            "email": self.email,
            "currency": self.currency,
            "amount_gross": str(money.amount(self.gross_cents)),
            "amount_net": None if self.net_cents is None else str(money.amount(self.net_cents)),
            "invoice_id": self.invoice_id,
            "address": {
                "street": corrected.street,
                "street_no": corrected.street_no,
                "postal_code": corrected.postal_code,
                "city": corrected.city,
                "country": corrected.country,
            },
            "denial": None
            if self.denial is None
            else {"code": self.denial[0], "message": self.denial[1]},
            "history": list(self.history),
        }


class SandboxService:
    def __init__(self, account: Account) -> None:
        self.account = account
        self.reset()

    def reset(self) -> None:
        self.orders: dict[str, Order] = {}
        self.debtors: dict[str, Debtor] = {}
        self.limits: dict[str, int] = {}  # limits set through the control API
        self._ref_numbers = itertools.count(REF_NO_START)
        self._debtor_numbers = itertools.count(DEBTOR_ID_START)

    # --- A call ------------------------------------------------------------------------------

    def handle(self, request: Request, *, now: datetime, odd_status: bool = False) -> Answer:
        """Answer a call whose WS-Security header passed.

        A wrong CLIENT_REF or SECURITY_CD raises a SoapFault. With `odd_status` the call is
        checked, but nothing happens and STATUS is neither 0 nor 1.
        """
        check_client_reference(request.client_reference, self.account)
        order_id, order, problem = self._find_order(request)
        if problem is not None:
            return problem  # no order to compute SECURITY_CD over
        check_security_code(request.security_code, order_id=order_id, account=self.account)
        if odd_status:
            answer = self._odd_status(order_id, order)
        else:
            answer = self._dispatch(request, order_id, order, now)
        recorded = self.orders.get(order_id)
        if recorded is not None:
            recorded.history.append(f"{request.operation.value}:{answer.status}")
        return answer

    def _find_order(self, request: Request) -> tuple[str, Order | None, Answer | None]:
        """The asked ORDER_ID and its order; activate may name its order by INVOICE_ID alone."""
        if request.order_id:
            return request.order_id, self.orders.get(request.order_id), None
        if request.operation == Operation.ACTIVATE and request.invoice_id:
            invoice_id = request.invoice_id
            found = [o for o in self.orders.values() if invoice_id in (o.order_id, o.invoice_id)]
            if len(found) == 1:
                return found[0].order_id, found[0], None
            matches = f"{len(found)} orders" if found else "no order"
            message = (
                f"ORDER_DATA.ORDER_ID is missing and INVOICE_ID {invoice_id} matches {matches}"
            )
            return "", None, _denied(ErrorCode.ORDER_ID_MISSING, message)
        return "", None, _denied(ErrorCode.ORDER_ID_MISSING, "ORDER_DATA.ORDER_ID is missing")

    def _dispatch(
        self, request: Request, order_id: str, order: Order | None, now: datetime
    ) -> Answer:
        if request.operation == Operation.RESERVE:
            return self._reserve(request, order_id, order)
        if order is None:
            return _denied(ErrorCode.UNKNOWN_ORDER, f"Unknown order {order_id}", order_id)
        if request.operation == Operation.CHECK_STATUS:
            return _check_status(order)
        mismatch = _mismatch(request, order)
        if mismatch is not None:
            return _about(order, DENIED, mismatch)
        if request.operation == Operation.CAPTURE:
            return self._capture(order)
        if request.operation == Operation.ACTIVATE:
            return self._activate(order, request.invoice_id)
        if request.operation == Operation.CANCEL:
            return self._cancel(order)
        if request.operation == Operation.APPLY_TRANSACTION:
            return self._apply_transaction(order, request, now)
        return self._modify(order, request)

    # --- Operations ------------------------------------------------------------------------

    def _reserve(self, request: Request, order_id: str, existing: Order | None) -> Answer:
        gross = money.read_cents(request.amount_gross)
        net = money.read_cents(request.amount_net) if request.amount_net else None
        if gross is None or (request.amount_net and net is None):
            message = "ORDER_DATA.TRS_AMT_GROSS and TRS_AMT_NET must be whole cents"
            return _denied(ErrorCode.AMOUNT_UNREADABLE, message, order_id)
        vat_id = normalize_vat_id(request.debtor.vat_id)
        if not vat_id:
            message = "DEBTOR_DATA.COMPANY_DATA.COM_ID_VAT is missing"
            return _denied(ErrorCode.VAT_ID_MISSING, message, order_id)

        if existing is not None:
            return self._reserve_again(existing, (request.currency, gross, net, vat_id))

        if request.currency != SUPPORTED_CURRENCY:
            message = f"Currency {request.currency or '(none)'} is not supported"
            return _denied(ErrorCode.CURRENCY_NOT_SUPPORTED, message, order_id)
        if gross <= 0:
            return _denied(ErrorCode.INVALID_AMOUNT, "The amount must be above 0", order_id)

        debtor = self.debtor(vat_id)
        order = self.orders[order_id] = Order(
            order_id=order_id,
            debtor=debtor,
            company_name=request.debtor.company_name,
            email=request.debtor.email,
            currency=request.currency,
            gross_cents=gross,
            net_cents=net,
            corrected=_corrected(request.debtor, debtor.debtor_id),
            invoice_id=request.invoice_id,
        )
        order.denial = self._credit_check(order)
        if order.denial is not None:
            order.state = OrderState.DENIED
            return _about(order, DENIED, order.denial)

        order.ref_no = next(self._ref_numbers)
        debtor.reserved_cents += gross
        order.holds_limit = True
        if request.auto_capture:
            order.state = OrderState.CAPTURED
            if request.auto_activate:
                activation = self._activate(order, request.invoice_id)
                return _about(order, APPROVED, *activation.errors)
        return _about(order, APPROVED)

    def _reserve_again(self, order: Order, content: tuple[str, int, int | None, str]) -> Answer:
        """The same reserve again gives the same answer and reserves nothing twice."""
        if content != order.content:
            message = f"Order {order.order_id} was reserved with other content"
            return _about(order, DENIED, (ErrorCode.ORDER_ID_CONFLICT, message))
        if order.denial is not None:
            return _about(order, DENIED, order.denial)
        if order.state == OrderState.CANCELED:
            return _wrong_state(order, "reserved again")
        if order.state == OrderState.ACTIVATION_DENIED:
            return _about(order, APPROVED, _activation_denied())
        return _about(order, APPROVED)

    def _credit_check(self, order: Order) -> Error | None:
        email = email_persona_of(order.email)
        if email is not None and not email.approved:
            return (ErrorCode.DEBTOR_DENIED, "The credit check of the debtor is negative")
        persona = persona_of(vat_id=order.debtor.vat_id, company_name=order.company_name)
        if email is None and persona == DENIED_AT_RESERVE:
            return (ErrorCode.DEBTOR_DENIED, "The credit check of the debtor is negative")
        if order.gross_cents > order.debtor.available_cents:
            available = money.amount(order.debtor.available_cents)
            return (ErrorCode.LIMIT_EXCEEDED, f"The debtor's available limit is {available} EUR")
        return None

    def _capture(self, order: Order) -> Answer:
        if order.state == OrderState.CAPTURED:
            return _about(order, APPROVED)
        if order.state != OrderState.RESERVED:
            return _wrong_state(order, "captured")
        order.state = OrderState.CAPTURED
        return _about(order, APPROVED)

    def _activate(self, order: Order, invoice_id: str) -> Answer:
        if order.state == OrderState.ACTIVATED:
            return _about(order, APPROVED)
        if order.state == OrderState.ACTIVATION_DENIED:
            return _about(order, DENIED, _activation_denied())
        if order.state != OrderState.CAPTURED:
            return _wrong_state(order, "activated")
        order.invoice_id = invoice_id or order.invoice_id
        persona = persona_of(vat_id=order.debtor.vat_id, company_name=order.company_name)
        if persona == DENIED_AT_ACTIVATION:
            order.state = OrderState.ACTIVATION_DENIED
            return _about(order, DENIED, _activation_denied())
        order.state = OrderState.ACTIVATED
        return _about(order, APPROVED)

    def _cancel(self, order: Order) -> Answer:
        if order.state == OrderState.CANCELED:
            return _about(order, APPROVED)
        if order.state not in CANCELABLE_STATES:
            return _wrong_state(order, "canceled")
        self._release(order)
        order.state = OrderState.CANCELED
        return _about(order, APPROVED)

    def _apply_transaction(self, order: Order, request: Request, now: datetime) -> Answer:
        if order.state == OrderState.SETTLED:
            return _about(order, APPROVED)
        if order.state != OrderState.ACTIVATED:
            return _wrong_state(order, "settled")
        transaction = request.transaction
        # The buyer has paid: the amount no longer weighs on the debtor's limit.
        self._release(order)
        order.state = OrderState.SETTLED
        order.settlement = Settlement(
            accounting_date=_instant_or(transaction.accounting_date if transaction else "", now),
            amount_cents=order.gross_cents,
            currency=order.currency,
            type=transaction.type if transaction else "",
        )
        return _about(order, APPROVED)

    def _modify(self, order: Order, request: Request) -> Answer:
        if order.state != OrderState.RESERVED:
            return _wrong_state(order, "modified")
        gross = money.read_cents(request.amount_gross)
        net = money.read_cents(request.amount_net) if request.amount_net else None
        if gross is None or (request.amount_net and net is None):
            message = "ORDER_DATA.TRS_AMT_GROSS and TRS_AMT_NET must be whole cents"
            return _about(order, DENIED, (ErrorCode.AMOUNT_UNREADABLE, message))
        if gross <= 0:
            return _about(order, DENIED, (ErrorCode.INVALID_AMOUNT, "The amount must be above 0"))
        increase = gross - order.gross_cents
        if increase > order.debtor.available_cents:
            available = money.amount(order.debtor.available_cents)
            message = f"The debtor's available limit is {available} EUR"
            return _about(order, DENIED, (ErrorCode.LIMIT_EXCEEDED, message))
        order.debtor.reserved_cents += increase
        order.gross_cents, order.net_cents = gross, net
        return _about(order, APPROVED)

    def _odd_status(self, order_id: str, order: Order | None) -> Answer:
        error = (ErrorCode.ODD_STATUS, "odd_status fault: nothing was done")
        if order is None:
            return Answer(ODD_STATUS, (error,), order_id=order_id)
        return _about(order, ODD_STATUS, error)

    # --- Ledger ------------------------------------------------------------------------------

    def debtor(self, vat_id: str) -> Debtor:
        vat_id = normalize_vat_id(vat_id)
        debtor = self.debtors.get(vat_id)
        if debtor is None:
            debtor = self.debtors[vat_id] = Debtor(
                vat_id=vat_id,
                debtor_id=next(self._debtor_numbers),
                limit_cents=self.limits.get(vat_id, self._default_limit(vat_id)),
            )
        return debtor

    def set_limit(self, vat_id: str, limit_cents: int) -> Debtor:
        vat_id = normalize_vat_id(vat_id)
        self.limits[vat_id] = limit_cents
        debtor = self.debtor(vat_id)
        debtor.limit_cents = limit_cents
        return debtor

    def _default_limit(self, vat_id: str) -> int:
        if vat_id == SMALL_LIMIT.vat_id:
            return money.cents(SMALL_LIMIT_AMOUNT)
        return money.cents(DEFAULT_LIMIT)

    def _release(self, order: Order) -> None:
        if order.holds_limit:
            order.debtor.reserved_cents -= order.gross_cents
            order.holds_limit = False


# --- Answers -------------------------------------------------------------------------------------


def _about(order: Order, status: str, *errors: Error) -> Answer:
    """An answer about a known order: its state in ADD_INFO, its REF_NO and debtor."""
    return Answer(
        status,
        tuple(errors),
        order_id=order.order_id,
        state=order.state,
        debtor_id=order.debtor.debtor_id,
        guaranteed_cents=order.gross_cents if order.state in GUARANTEE_STATES else None,
        ref_no=order.ref_no,
        corrected=order.corrected,
        settlement=order.settlement,
    )


def _denied(code: ErrorCode, message: str, order_id: str = "") -> Answer:
    return Answer(DENIED, ((code, message),), order_id=order_id)


def _check_status(order: Order) -> Answer:
    """Say "1" while the order holds a guarantee, else "0" with the reason and no REF_NO."""
    if order.state in GUARANTEE_STATES:
        return _about(order, APPROVED)
    if order.state == OrderState.DENIED and order.denial is not None:
        reason = order.denial
    elif order.state == OrderState.ACTIVATION_DENIED:
        reason = _activation_denied()
    else:
        reason = (ErrorCode.NO_GUARANTEE, f"Order {order.order_id} is {order.state}: no guarantee")
    return replace(_about(order, DENIED, reason), ref_no=None)


def _mismatch(request: Request, order: Order) -> Error | None:
    """Calls after reserve name the order's REF_NO, currency and amount, if they name any."""
    if request.ref_no and request.ref_no.lstrip("0") != str(order.ref_no or ""):
        return (
            ErrorCode.REF_NO_MISMATCH,
            f"REF_NO {request.ref_no} is not order {order.order_id}'s",
        )
    transaction = request.transaction
    currencies = {request.currency, transaction.currency if transaction else ""} - {""}
    amounts = [] if request.operation == Operation.MODIFY else [request.amount_gross]
    if transaction is not None:
        amounts.append(transaction.amount)
    cents = [money.read_cents(text) for text in amounts if text]
    if None in cents:
        return (ErrorCode.AMOUNT_UNREADABLE, "An amount is not whole cents")
    if currencies - {order.currency} or set(cents) - {order.gross_cents}:
        amount = money.amount(order.gross_cents)
        return (
            ErrorCode.INVALID_AMOUNT,
            f"Order {order.order_id} is for {amount} {order.currency}",
        )
    return None


def _wrong_state(order: Order, wanted: str) -> Answer:
    message = f"Order {order.order_id} is {order.state} and cannot be {wanted}"
    return _about(order, DENIED, (ErrorCode.INVALID_STATE, message))


def _activation_denied() -> Error:
    return (ErrorCode.ACTIVATION_DENIED, "The guarantee of the invoice is denied")


def _instant_or(text: str, default: datetime) -> datetime:
    try:
        return parse_instant(text).astimezone(UTC)
    except ValueError:
        return default


# --- Corrected debtor data ---------------------------------------------------------------------

_HOUSE_NUMBER = re.compile(
    r"^(?P<street>.*\S)\s+(?P<number>\d+\s?[A-Za-z]?(?:\s?[-/]\s?\d+\s?[A-Za-z]?)?)$"
)
# Alpha-2 codes the sandbox turns into alpha-3 (Oro sends alpha-3 already).
_ALPHA3 = {
    "AT": "AUT", "BE": "BEL", "BG": "BGR", "CH": "CHE", "CY": "CYP", "CZ": "CZE", "DE": "DEU",
    "DK": "DNK", "EE": "EST", "ES": "ESP", "FI": "FIN", "FR": "FRA", "GB": "GBR", "GR": "GRC",
    "HR": "HRV", "HU": "HUN", "IE": "IRL", "IT": "ITA", "LI": "LIE", "LT": "LTU", "LU": "LUX",
    "LV": "LVA", "MT": "MLT", "NL": "NLD", "NO": "NOR", "PL": "POL", "PT": "PRT", "RO": "ROU",
    "SE": "SWE", "SI": "SVN", "SK": "SVK", "US": "USA",
}  # fmt: skip


def _corrected(debtor: DebtorData, debtor_id: int) -> CorrectedDebtor:
    """The address as the sandbox stores it: trimmed, the house number split off the street
    when BD_STREET_NR is empty, the country as ISO alpha-3."""
    street, number = " ".join(debtor.street.split()), debtor.street_no
    split = _HOUSE_NUMBER.match(street)
    if not number and split:
        street, number = split["street"], split["number"]
    country = debtor.country.upper()
    return CorrectedDebtor(
        city=" ".join(debtor.city.split()),
        country=_ALPHA3.get(country, country),
        name=" ".join(debtor.company_name.split()),
        street=street,
        street_no=number,
        postal_code=debtor.postal_code.replace(" ", ""),
        debtor_id=debtor_id,
    )
