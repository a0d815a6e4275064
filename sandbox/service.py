"""What the sandbox does with a SOAP call: authentication, the ledger, order states.

Everything here is synchronous and never awaits, so one call's work is atomic on the event
loop; the web app still runs it under one asyncio lock so that this stays true if that
changes. The state lives in memory: the sandbox is for development and tests.
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lxml import etree

from infinitepay import wire
from infinitepay.messages import Operation
from infinitepay.wire import ErrorCode, OrderState

from .accounts import (
    DEFAULT_LIMIT,
    DENIED_AT_ACTIVATION,
    DENIED_AT_RESERVE,
    SMALL_LIMIT,
    SMALL_LIMIT_AMOUNT,
    SUPPORTED_CURRENCY,
    Account,
    normalize_vat_id,
    persona_of,
)

CLOCK_SKEW = timedelta(minutes=5)
OPERATIONS = {etree.QName(wire.NAMESPACE, op.value).text: op for op in Operation}


@dataclass
class Debtor:
    vat_id: str
    debtor_id: str
    limit_cents: int
    reserved_cents: int = 0

    @property
    def available_cents(self) -> int:
        return self.limit_cents - self.reserved_cents

    def to_json(self) -> dict[str, Any]:
        return {
            "vat_id": self.vat_id,
            "debtor_id": self.debtor_id,
            "limit": str(wire.from_cents(self.limit_cents)),
            "reserved": str(wire.from_cents(self.reserved_cents)),
            "available": str(wire.from_cents(self.available_cents)),
        }


@dataclass
class Order:
    order_id: str
    ref_no: str
    debtor: Debtor
    company_name: str
    currency: str
    gross_cents: int
    net_cents: int
    state: str
    holds_limit: bool  # whether gross_cents is counted in the debtor's reserved amount
    denial: tuple[str, str] | None = None  # the reason of a denied reserve, given on repeats
    invoice_id: str = ""
    history: list[str] = field(default_factory=list)

    @property
    def fingerprint(self) -> tuple[str, int, int, str]:
        return (self.currency, self.gross_cents, self.net_cents, self.debtor.vat_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "ref_no": self.ref_no,
            "state": self.state,
            "vat_id": self.debtor.vat_id,
            "debtor_id": self.debtor.debtor_id,
            "company_name": self.company_name,
            "currency": self.currency,
            "amount_gross": str(wire.from_cents(self.gross_cents)),
            "amount_net": str(wire.from_cents(self.net_cents)),
            "invoice_id": self.invoice_id,
            "history": list(self.history),
        }


@dataclass(frozen=True)
class Answer:
    """What one operation decided, before it is put on the wire."""

    status: str
    order: Order | None = None
    errors: tuple[tuple[str, str], ...] = ()
    guaranteed: bool = False


APPROVED = "1"
DENIED = "0"


class SandboxService:
    def __init__(self, account: Account) -> None:
        self.account = account
        self.reset()

    def reset(self) -> None:
        self.orders: dict[str, Order] = {}
        self.debtors: dict[str, Debtor] = {}
        self.limits: dict[str, int] = {}  # limits set through the control API
        self.calls: Counter[str] = Counter()
        self._ref_numbers = itertools.count(1)
        self._debtor_numbers = itertools.count(1)

    # --- The SOAP endpoint -----------------------------------------------------------------

    def handle(self, content: bytes, *, now: datetime | None = None) -> tuple[int, bytes]:
        """Answer one SOAP request: (HTTP status, body)."""
        now = now or datetime.now(UTC)
        try:
            root = wire.parse_document(content)
            payload = wire.body_child(root)
        except wire.MalformedXML as error:
            return 500, wire.fault_envelope("soapenv:Client", str(error))
        auth_error = self._authenticate(root, now)
        if auth_error:
            return 500, wire.fault_envelope(*auth_error)
        operation = OPERATIONS.get(payload.tag)
        if operation is None:
            return 500, wire.fault_envelope("soapenv:Client", f"unknown operation {payload.tag}")
        errors = wire.schema_errors(payload)
        if errors:
            return 500, wire.fault_envelope("soapenv:Client", "; ".join(errors))

        request = payload.find("REQUEST")
        order_id = request.findtext("ORDER_DATA/ORDER_ID")
        answer = self._check_client(request, order_id) or self._dispatch(operation, request)
        if answer.order is not None:
            answer.order.history.append(f"{operation.value}:{answer.status}")
        return 200, self._response(operation, order_id, answer)

    def _authenticate(self, root: etree._Element, now: datetime) -> tuple[str, str] | None:
        security = root.find(f"{{{wire.SOAP_ENV}}}Header/{{{wire.WSSE}}}Security")
        if security is None:
            return "wsse:InvalidSecurity", "the WS-Security header is missing"
        username = security.findtext(f"{{{wire.WSSE}}}UsernameToken/{{{wire.WSSE}}}Username")
        password = security.findtext(f"{{{wire.WSSE}}}UsernameToken/{{{wire.WSSE}}}Password")
        if username != self.account.username or password != self.account.password:
            return "wsse:FailedAuthentication", "the security token could not be authenticated"
        created = security.findtext(f"{{{wire.WSU}}}Timestamp/{{{wire.WSU}}}Created")
        expires = security.findtext(f"{{{wire.WSU}}}Timestamp/{{{wire.WSU}}}Expires")
        try:
            fresh = (
                wire.parse_timestamp(created) <= now + CLOCK_SKEW
                and wire.parse_timestamp(expires) > now - CLOCK_SKEW
            )
        except (TypeError, ValueError, AttributeError):
            return "wsse:InvalidSecurity", "the Timestamp is missing or unreadable"
        if not fresh:
            return "wsse:MessageExpired", "the message has expired"
        return None

    def _check_client(self, request: etree._Element, order_id: str) -> Answer | None:
        if request.findtext("CLIENT_DATA/CLIENT_REF") != self.account.client_reference:
            return Answer(DENIED, errors=((ErrorCode.UNKNOWN_CLIENT, "Unknown client reference"),))
        expected = wire.security_code(
            secret=self.account.secret,
            client_reference=self.account.client_reference,
            order_id=order_id,
        )
        if request.findtext("CLIENT_DATA/SECURITY_CD") != expected:
            return Answer(
                DENIED, errors=((ErrorCode.INVALID_SECURITY_CODE, "Invalid security code"),)
            )
        return None

    def _dispatch(self, operation: Operation, request: etree._Element) -> Answer:
        order_id = request.findtext("ORDER_DATA/ORDER_ID")
        if operation == Operation.RESERVE:
            return self._reserve(request)
        order = self.orders.get(order_id)
        if order is None:
            return Answer(DENIED, errors=((ErrorCode.UNKNOWN_ORDER, f"Unknown order {order_id}"),))
        if operation == Operation.CHECK_STATUS:
            return Answer(APPROVED, order, guaranteed=order.state in GUARANTEED_STATES)
        amount_error = self._amount_error(order, request, operation)
        if amount_error:
            return Answer(DENIED, order, errors=(amount_error,))
        if operation == Operation.CAPTURE:
            return self._capture(order)
        if operation == Operation.ACTIVATE:
            return self._activate(order, request.findtext("INVOICE_DATA/INVOICE_ID"))
        if operation == Operation.CANCEL:
            return self._cancel(order)
        if operation == Operation.APPLY_TRANSACTION:
            return self._apply_transaction(order)
        return self._modify(order, request)

    # --- Operations ------------------------------------------------------------------------

    def _reserve(self, request: etree._Element) -> Answer:
        data = request.find("ORDER_DATA")
        company = request.find("DEBTOR_DATA/COMPANY_DATA")
        order_id = data.findtext("ORDER_ID")
        currency = data.findtext("TRS_CURRENCY")
        gross, net = int(data.findtext("TRS_AMT_GROSS")), int(data.findtext("TRS_AMT_NET"))
        company_name = company.findtext("COMPANY_NAME")
        debtor = self.debtor(company.findtext("COM_ID_VAT"))

        existing = self.orders.get(order_id)
        if existing is not None:
            if existing.fingerprint != (currency, gross, net, debtor.vat_id):
                return Answer(
                    DENIED,
                    errors=(
                        (
                            ErrorCode.ORDER_ID_CONFLICT,
                            f"Order {order_id} was reserved with other content",
                        ),
                    ),
                )
            # The same request again: the same answer, nothing reserved twice.
            if existing.denial:
                return Answer(DENIED, existing, errors=(existing.denial,))
            return Answer(APPROVED, existing, guaranteed=existing.state in GUARANTEED_STATES)

        if currency != SUPPORTED_CURRENCY:
            return Answer(
                DENIED,
                errors=((ErrorCode.CURRENCY_NOT_SUPPORTED, f"Currency {currency} not supported"),),
            )
        if gross <= 0:
            return Answer(DENIED, errors=((ErrorCode.INVALID_AMOUNT, "The amount must be > 0"),))

        order = Order(
            order_id=order_id,
            ref_no=f"IP{next(self._ref_numbers):010d}",
            debtor=debtor,
            company_name=company_name,
            currency=currency,
            gross_cents=gross,
            net_cents=net,
            state=OrderState.RESERVED,
            holds_limit=False,
        )
        self.orders[order_id] = order
        if persona_of(vat_id=debtor.vat_id, company_name=company_name) == DENIED_AT_RESERVE:
            order.denial = (ErrorCode.DEBTOR_DENIED, "The credit check of the debtor is negative")
        elif gross > debtor.available_cents:
            order.denial = (
                ErrorCode.LIMIT_EXCEEDED,
                f"The debtor's available limit is {wire.from_cents(debtor.available_cents)} EUR",
            )
        if order.denial:
            order.state = OrderState.DENIED
            return Answer(DENIED, order, errors=(order.denial,))

        debtor.reserved_cents += gross
        order.holds_limit = True
        errors: tuple[tuple[str, str], ...] = ()
        if data.findtext("AUTO_CAPTURE") == "1":
            order.state = OrderState.CAPTURED
            invoice_id = request.findtext("INVOICE_DATA/INVOICE_ID")
            if data.findtext("AUTO_ACTIVATE") == "1" and invoice_id:
                errors = self._activate(order, invoice_id).errors
        return Answer(APPROVED, order, errors=errors, guaranteed=order.state in GUARANTEED_STATES)

    def _capture(self, order: Order) -> Answer:
        if order.state == OrderState.CAPTURED:
            return Answer(APPROVED, order)
        if order.state != OrderState.RESERVED:
            return _wrong_state(order, "captured")
        order.state = OrderState.CAPTURED
        return Answer(APPROVED, order)

    def _activate(self, order: Order, invoice_id: str) -> Answer:
        if order.state == OrderState.ACTIVATED:
            return Answer(APPROVED, order, guaranteed=True)
        denial = (ErrorCode.ACTIVATION_DENIED, "The guarantee of the invoice is denied")
        if order.state == OrderState.ACTIVATION_DENIED:
            return Answer(DENIED, order, errors=(denial,))
        if order.state != OrderState.CAPTURED:
            return _wrong_state(order, "activated")
        order.invoice_id = invoice_id
        if persona_of(vat_id=order.debtor.vat_id, company_name=order.company_name) == (
            DENIED_AT_ACTIVATION
        ):
            order.state = OrderState.ACTIVATION_DENIED
            return Answer(DENIED, order, errors=(denial,))
        order.state = OrderState.ACTIVATED
        return Answer(APPROVED, order, guaranteed=True)

    def _cancel(self, order: Order) -> Answer:
        if order.state == OrderState.CANCELED:
            return Answer(APPROVED, order)
        if order.state not in CANCELABLE_STATES:
            return _wrong_state(order, "canceled")
        self._release(order)
        order.state = OrderState.CANCELED
        return Answer(APPROVED, order)

    def _apply_transaction(self, order: Order) -> Answer:
        if order.state == OrderState.SETTLED:
            return Answer(APPROVED, order, guaranteed=True)
        if order.state != OrderState.ACTIVATED:
            return _wrong_state(order, "settled")
        # The buyer has paid: the amount no longer weighs on the debtor's limit.
        self._release(order)
        order.state = OrderState.SETTLED
        return Answer(APPROVED, order, guaranteed=True)

    def _modify(self, order: Order, request: etree._Element) -> Answer:
        if order.state != OrderState.RESERVED:
            return _wrong_state(order, "modified")
        data = request.find("ORDER_DATA")
        gross, net = int(data.findtext("TRS_AMT_GROSS")), int(data.findtext("TRS_AMT_NET"))
        if gross <= 0:
            return Answer(
                DENIED, order, errors=((ErrorCode.INVALID_AMOUNT, "The amount must be > 0"),)
            )
        increase = gross - order.gross_cents
        if increase > order.debtor.available_cents:
            available = wire.from_cents(order.debtor.available_cents)
            return Answer(
                DENIED,
                order,
                errors=(
                    (ErrorCode.LIMIT_EXCEEDED, f"The debtor's available limit is {available} EUR"),
                ),
            )
        order.debtor.reserved_cents += increase
        order.gross_cents, order.net_cents = gross, net
        return Answer(APPROVED, order)

    # --- Ledger ------------------------------------------------------------------------------

    def debtor(self, vat_id: str) -> Debtor:
        vat_id = normalize_vat_id(vat_id)
        debtor = self.debtors.get(vat_id)
        if debtor is None:
            debtor = self.debtors[vat_id] = Debtor(
                vat_id=vat_id,
                debtor_id=f"DB{next(self._debtor_numbers):08d}",
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
            return wire.to_cents(SMALL_LIMIT_AMOUNT)
        return wire.to_cents(DEFAULT_LIMIT)

    def _release(self, order: Order) -> None:
        if order.holds_limit:
            order.debtor.reserved_cents -= order.gross_cents
            order.holds_limit = False

    def _amount_error(
        self, order: Order, request: etree._Element, operation: Operation
    ) -> tuple[str, str] | None:
        """Capture, activate, cancel and pay name the order's amount; a different one is refused."""
        data = request.find("ORDER_DATA")
        currency = data.findtext("TRS_CURRENCY")
        gross = int(data.findtext("TRS_AMT_GROSS"))
        if operation == Operation.MODIFY:
            same = currency == order.currency
        else:
            same = (currency, gross) == (order.currency, order.gross_cents)
        if same:
            return None
        return (
            ErrorCode.INVALID_AMOUNT,
            f"Order {order.order_id} is for {wire.from_cents(order.gross_cents)} {order.currency}",
        )

    # --- Answers -----------------------------------------------------------------------------

    def _response(self, operation: Operation, order_id: str, answer: Answer) -> bytes:
        order = answer.order
        return wire.build_response(
            operation,
            request_id=str(uuid.uuid4()),
            status=answer.status,
            order_id=order_id,
            ref_no=order.ref_no if order and not order.denial else "",
            debtor_id=order.debtor.debtor_id if order else "",
            guaranteed_cents=order.gross_cents if order and answer.guaranteed else None,
            add_info=order.state if order else "",
            errors=answer.errors,
        )


GUARANTEED_STATES = frozenset({OrderState.ACTIVATED, OrderState.SETTLED})
CANCELABLE_STATES = frozenset(
    {OrderState.RESERVED, OrderState.CAPTURED, OrderState.ACTIVATION_DENIED}
)


def _wrong_state(order: Order, wanted: str) -> Answer:
    message = f"Order {order.order_id} is {order.state} and cannot be {wanted}"
    return Answer(DENIED, order, errors=((ErrorCode.INVALID_STATE, message),))
