"""What goes on the wire to InfinitePay and how its answers are read, in one place.

The contract itself (target namespace, element order, types, soapAction, address) comes from
the endpoint's WSDL (`infinitepay.contract`); this module holds what the WSDL cannot say:
which field carries which of our values, in InfinitePay's encodings (integer cents rounded
half-up, `YYYYMMDD` dates, ISO 3166 alpha-3 countries, `"0"`/`"1"` flags), the WS-Security
header, and a tolerant reader of answers. Field names and fixed values follow the public
record (`docs/pipeline.md`, "The contract"); choices of ours are marked *(ours)*.

Answers are read by the fields we need, by local name, in any order; unknown elements are
ignored and amounts may be integers or decimals. Parsing resolves no entities, loads no DTD
and reaches no network.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from xml.sax.saxutils import escape

from django.views.decorators.debug import sensitive_variables
from django_countries.data import ALT_CODES
from lxml import etree

from .messages import (
    APPROVED_STATUS,
    ActivateRequest,
    Address,
    Amounts,
    ApplyTransactionRequest,
    Article,
    CaptureRequest,
    CorrectedDebtor,
    Credentials,
    Exchange,
    Invoice,
    Operation,
    ProviderMessage,
    Request,
    ReserveRequest,
    Result,
)

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
TOKEN_LIFETIME = timedelta(seconds=600)
CONTENT_TYPE = "text/xml; charset=utf-8"

# Fixed values, as OroCommerce sends them for invoice payments.
PAY_TYPE_INVOICE = "1"
TOTAL_CALC_B2B_TAX_PER_ITEM = "3"
SALUTATION_NOT_AVAILABLE = "na"
DB_NEW_CUSTOMER_HAS_ACCOUNT = "1"
NO_NEGATIVE_PAYMENT_HISTORY = "0"
NO_DELAY = "0"

# (ours) An answer larger than this is not an answer we read; it is stored cut to this size.
MAX_ANSWER_BYTES = 1024 * 1024
# (ours) What our columns hold of the identifiers and amounts an answer carries.
MAX_IDENTIFIER_LENGTH = 64
MAX_GUARANTEED_AMOUNT = Decimal("9999999999.99")

REDACTED = "[redacted]"
DENIED_STATUS = "0"


class MalformedXML(ValueError):
    """Not an answer we can read: not XML, a DOCTYPE, the wrong shape, a field we need missing."""


# --- Encodings ---------------------------------------------------------------------------


def to_cents(amount: Decimal | int | str) -> int:
    """Money in integer minor units, rounded half-up."""
    cents = (Decimal(amount) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return int(cents)


def vat_rate_code(rate: Decimal | str) -> int:
    """A VAT rate as a fraction, times 10000: 19 % (0.19) is 1900."""
    return int((Decimal(rate) * 10000).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def format_date(day: date) -> str:
    return day.strftime("%Y%m%d")


def format_transaction_time(moment: datetime, zone: tzinfo) -> str:
    """TRS_DT: `YYYYMMDD HHMMSS` in the shop's time zone, with no offset (as Oro sends it)."""
    return moment.astimezone(zone).strftime("%Y%m%d %H%M%S")


def format_flag(value: bool) -> str:
    return "1" if value else "0"


def country_alpha3(alpha2: str) -> str:
    try:
        return ALT_CODES[alpha2.upper()][0]
    except KeyError:
        raise ValueError(f"Unknown country code: {alpha2!r}") from None


@sensitive_variables("secret", "digest")
def security_code(*, secret: str, client_reference: str, order_id: str) -> str:
    """SECURITY_CD: base64 of the lower-case hex HMAC-SHA256 of CLIENT_REF + ORDER_ID."""
    digest = hmac.new(
        secret.encode(), (client_reference + order_id).encode(), hashlib.sha256
    ).hexdigest()
    return base64.b64encode(digest.encode("ascii")).decode("ascii")


def format_timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --- Requests ----------------------------------------------------------------------------


def operation_of(request: Request) -> Operation:
    return request.operation


@sensitive_variables("credentials", "body")
def request_body(
    request: Request, *, credentials: Credentials, now: datetime, zone: tzinfo
) -> dict[str, Any]:
    """The REQUEST element of `request` as field names and wire values (None: not sent)."""
    body: dict[str, Any] = {
        "CLIENT_DATA": {
            "CLIENT_REF": credentials.client_reference,
            "SECURITY_CD": security_code(
                secret=credentials.secret,
                client_reference=credentials.client_reference,
                order_id=request.order_id,
            ),
        }
    }
    trs_dt = format_transaction_time(now, zone)
    if isinstance(request, ReserveRequest):
        body["BANK_DATA"] = {}  # Oro sends it empty: we have no bank data of the buyer
        body["DEBTOR_DATA"] = _debtor_data(request)
        body["ARTICLES"] = {"ARTICLE": [_article(article) for article in request.articles]}
        # (ours) Every step is its own call, so reserve asks for no automation and sends no
        # invoice: capture and activate follow as separate calls, activate with the real date.
        body["ORDER_DATA"] = {
            "AUTO_ACTIVATE": format_flag(False),
            "AUTO_CAPTURE": format_flag(False),
            **_order_totals(request.order_id, request.amounts, trs_dt),
        }
        body["SHIPPING_DATA"] = _shipping_data(request.shipping_address)
    elif isinstance(request, CaptureRequest):
        body["ORDER_DATA"] = _order_totals(request.order_id, request.amounts, trs_dt)
    elif isinstance(request, ActivateRequest):
        # (ours) Oro leaves ORDER_ID out of activate; we always send it.
        body["INVOICE_DATA"] = _invoice_data(request.invoice)
        body["ORDER_DATA"] = _order_totals(request.order_id, request.amounts, trs_dt)
    elif isinstance(request, ApplyTransactionRequest):
        # (ours) The record shows only {ORDER_ID, REF_NO}; what TRANSACTION_DATA carries
        # (amount, currency, dates, document) is our reading, to confirm with InfinitePay.
        body["ORDER_DATA"] = {"ORDER_ID": request.order_id, "REF_NO": request.ref_no or None}
        body["TRANSACTION_DATA"] = {
            "ACCOUNTING_DT": format_date(request.paid_on),
            "DOC_ID": request.invoice_id,
            "TRS_AMT": to_cents(request.amount),
            "TRS_CURRENCY": request.currency,
            "VALUE_DT": format_date(request.paid_on),
        }
    else:
        # Cancel and check status: the record is silent; send what identifies the order.
        amounts = request.amounts
        order: dict[str, Any] = {"ORDER_ID": request.order_id, "REF_NO": request.ref_no or None}
        if amounts is not None:
            order |= {
                "TRS_AMT_GROSS": to_cents(amounts.total_gross),
                "TRS_AMT_NET": to_cents(amounts.total_net),
                "TRS_CURRENCY": amounts.currency,
            }
        order["TRS_DT"] = trs_dt
        body["ORDER_DATA"] = order
    return body


def _order_totals(order_id: str, amounts: Amounts, trs_dt: str) -> dict[str, Any]:
    """orderTotal as Oro fills it for reserve, capture and activate."""
    return {
        "ORDER_ID": order_id,
        "PAY_TYPE": PAY_TYPE_INVOICE,
        "RABATE_GROSS": to_cents(amounts.discount_gross),
        "RABATE_NET": to_cents(amounts.discount_net),
        "SHIPPING_PRICE_GROSS": to_cents(amounts.shipping_gross),
        "SHIPPING_PRICE_NET": to_cents(amounts.shipping_net),
        "TERMS_ACCEPTED": format_flag(True),
        "TRS_AMT_GROSS": to_cents(amounts.total_gross),
        "TRS_AMT_NET": to_cents(amounts.total_net),
        "TRS_CURRENCY": amounts.currency,
        "TRS_DT": trs_dt,
        "TOTAL_GROSS_CALC_METHOD": TOTAL_CALC_B2B_TAX_PER_ITEM,
    }


def _debtor_data(request: ReserveRequest) -> dict[str, Any]:
    debtor = request.debtor
    address = debtor.address
    return {
        "COMPANY_DATA": {
            "COM_ID_VAT": debtor.vat_id,
            "COMPANY_NAME": debtor.company_name,
            "OWNER_FS_NAME": debtor.first_name,
            "OWNER_LS_NAME": debtor.last_name,
        },
        "BD_CITY": address.city,
        "BD_COUNTRY": country_alpha3(address.country),
        "BD_EMAIL": debtor.email,
        "BD_NAME_FS": debtor.first_name,
        "BD_NAME_LS": debtor.last_name,
        "BD_SALUT": SALUTATION_NOT_AVAILABLE,
        "BD_STREET": address.street,
        "BD_ZIP": address.postal_code,
        "COM_OR_PER": debtor.legal_form,
        "DB_NEW": DB_NEW_CUSTOMER_HAS_ACCOUNT,
        "IP_ADD": debtor.ip_address,
        "ISP": debtor.host_name or None,
        "NEG_PAY_HIST": NO_NEGATIVE_PAYMENT_HISTORY,
    }


def _shipping_data(ship_to: Address | None) -> dict[str, Any]:
    if ship_to is None:
        return {"USE_BILL_DATA": format_flag(True)}
    # (ours) Oro always ships to the billing address; we send a different one when there is.
    return {
        "DD_CITY": ship_to.city,
        "DD_COUNTRY": country_alpha3(ship_to.country),
        "DD_STREET": ship_to.street,
        "DD_ZIP": ship_to.postal_code,
        "USE_BILL_DATA": format_flag(False),
    }


def _article(article: Article) -> dict[str, Any]:
    return {
        "ARTICLE_ID": article.sku,
        "ARTICLE_NAME": article.name,
        "ARTICLE_PRICE_GROSS": to_cents(article.unit_price_gross),
        "ARTICLE_PRICE_NET": to_cents(article.unit_price_net),
        "ARTICLE_QUANTITY": article.quantity,
        "ARTICLE_VAT_PERC": vat_rate_code(article.vat_rate),
    }


def _invoice_data(invoice: Invoice) -> dict[str, Any]:
    return {
        "DELAY_IN_DAYS": NO_DELAY,
        "DELIVERY_DATE": format_date(invoice.delivery_date),
        "DUE_DATE": format_date(invoice.due_date),
        "INVOICE_DATE": format_date(invoice.invoice_date),
        "INVOICE_ID": invoice.invoice_id,
        "PAYMENT_TERMS": invoice.payment_terms_days,
    }


@sensitive_variables("credentials", "password")
def security_header(credentials: Credentials, now: datetime) -> etree._Element:
    """WS-Security as OroCommerce's client sends it: a Timestamp, then a PasswordText token."""
    security = etree.Element(etree.QName(WSSE, "Security"), nsmap={"wsse": WSSE, "wsu": WSU})
    security.set(etree.QName(SOAP_ENV, "mustUnderstand"), "1")
    timestamp = etree.SubElement(security, etree.QName(WSU, "Timestamp"))
    _add(timestamp, etree.QName(WSU, "Created"), format_timestamp(now))
    _add(timestamp, etree.QName(WSU, "Expires"), format_timestamp(now + TOKEN_LIFETIME))
    token = etree.SubElement(security, etree.QName(WSSE, "UsernameToken"))
    _add(token, etree.QName(WSSE, "Username"), credentials.username)
    password = _add(token, etree.QName(WSSE, "Password"), credentials.password)
    password.set("Type", PASSWORD_TEXT)
    return security


def _add(parent: etree._Element, tag: etree.QName, value: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = value
    return element


# --- Answers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """A SOAP Fault, verbatim; `authentication` when WS-Security refused the message."""

    code: str
    message: str
    detail: str
    authentication: bool
    client: bool  # the service blamed the request (soap:Client)


def read_answer(
    content: bytes, *, operation: Operation, expected: str, order_id: str, exchange: Exchange
) -> Result | Fault:
    """Read an answer to `operation` whose body element is `expected` (a Clark name).

    Raise MalformedXML when it is not that answer or a Fault, when a field we need (STATUS)
    is missing, when it speaks of another ORDER_ID, or when a value cannot be kept.
    """
    if len(content) > MAX_ANSWER_BYTES:
        raise MalformedXML(f"the answer is larger than {MAX_ANSWER_BYTES} bytes")
    payload = _body_child(_parse_envelope(content))
    if payload.tag == etree.QName(SOAP_ENV, "Fault").text:
        return _read_fault(payload)
    if payload.tag != expected:
        raise MalformedXML(f"expected {expected}, got {payload.tag!s}")
    response = _child(payload, "RESPONSE")
    if response is None:
        raise MalformedXML("the answer has no RESPONSE")
    data = _child(response, "RESPONSE_DATA")

    def field(name: str) -> str:
        """A field of RESPONSE_DATA, or the same field that RESPONSE repeats."""
        for block in (data, response):
            value = _text(block, name) if block is not None else None
            if value is not None:
                return value
        return ""

    status = field("STATUS")
    if not status:
        raise MalformedXML("the answer has no STATUS")
    if status not in (APPROVED_STATUS, DENIED_STATUS):
        # Only "1" approves and "0" is the denial on record; another value means nothing we
        # can act on: the outcome is unknown, and ops see what InfinitePay said.
        raise MalformedXML(f"STATUS {status!r} is neither an approval (1) nor a denial (0)")
    answered_order = field("ORDER_ID")
    if answered_order and answered_order != order_id:
        raise MalformedXML(f"the answer is about ORDER_ID {answered_order!r}, not {order_id!r}")
    return Result(
        operation=operation,
        status=status,
        order_id=answered_order or order_id,
        ref_no=_identifier(field("REF_NO"), "REF_NO"),
        debtor_id=_identifier(field("DB_ID"), "DB_ID"),
        guaranteed_amount=_guaranteed_amount(field("GUAR_AMT")),
        add_info=field("ADD_INFO"),
        errors=tuple(
            ProviderMessage(
                code=_text(error, "ERROR_CD") or "", message=_text(error, "ERROR_MSG") or ""
            )
            for errors in _children(response, "ERROR_DATA")
            for error in _children(errors, "ERROR")
        ),
        exchange=exchange,
        corrected_debtor=_corrected_debtor(_child(response, "DEBTOR_CORRECTED_DATA")),
    )


def _identifier(value: str, name: str) -> str:
    if len(value) > MAX_IDENTIFIER_LENGTH:
        raise MalformedXML(f"{name} is longer than {MAX_IDENTIFIER_LENGTH} characters")
    return value


def _guaranteed_amount(value: str) -> Decimal | None:
    """GUAR_AMT in cents (ours: the unit is not on record), as an integer or a decimal."""
    if not value:
        return None
    try:
        cents = Decimal(value)
    except InvalidOperation:
        raise MalformedXML(f"GUAR_AMT {value!r} is not a number") from None
    if not cents.is_finite() or not 0 <= cents / 100 <= MAX_GUARANTEED_AMOUNT:
        raise MalformedXML(f"GUAR_AMT {value!r} is out of range")
    return (cents / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _corrected_debtor(element: etree._Element | None) -> CorrectedDebtor | None:
    if element is None:
        return None
    return CorrectedDebtor(
        name=_text(element, "C_NAME") or "",
        street=_text(element, "C_STREET") or "",
        street_number=_text(element, "C_STREET_NO") or "",
        postal_code=_text(element, "C_ZIP") or "",
        city=_text(element, "C_CITY") or "",
        country=_text(element, "C_COUNTRY") or "",
        debtor_id=_text(element, "DB_ID") or "",
    )


def _read_fault(fault: etree._Element) -> Fault:
    code = (_text(fault, "faultcode") or "").strip()
    detail = _child(fault, "detail")
    prefix, _, local = code.rpartition(":")
    namespace = fault.nsmap.get(prefix) if prefix else None
    return Fault(
        code=code,
        message=(_text(fault, "faultstring") or "").strip(),
        detail=" ".join(" ".join(detail.itertext()).split()) if detail is not None else "",
        authentication=namespace == WSSE,
        client=namespace == SOAP_ENV and local.split(".")[0] == "Client",
    )


def _parse_envelope(content: bytes) -> etree._Element:
    try:
        root = etree.fromstring(content, parser=_safe_parser())
    except etree.XMLSyntaxError as error:
        raise MalformedXML(f"not well-formed XML: {error}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise MalformedXML("a SOAP message must not carry a document type declaration")
    if root.tag != etree.QName(SOAP_ENV, "Envelope").text:
        raise MalformedXML(f"not a SOAP 1.1 envelope: {root.tag!s}")
    return root


def _body_child(root: etree._Element) -> etree._Element:
    body = root.find(etree.QName(SOAP_ENV, "Body").text)
    children = [] if body is None else [child for child in body if isinstance(child.tag, str)]
    if len(children) != 1:
        raise MalformedXML("the SOAP body must hold exactly one element")
    return children[0]


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _children(parent: etree._Element, name: str) -> Iterable[etree._Element]:
    """Child elements called `name`, in whatever namespace the WSDL qualifies them with."""
    return (
        child
        for child in parent
        if isinstance(child.tag, str) and etree.QName(child).localname == name
    )


def _child(parent: etree._Element, name: str) -> etree._Element | None:
    return next(iter(_children(parent, name)), None)


def _text(parent: etree._Element, name: str) -> str | None:
    """The stripped text of a child element; None when absent (empty or nil reads as "")."""
    element = _child(parent, name)
    return None if element is None else (element.text or "").strip()


# --- Redaction ---------------------------------------------------------------------------

_PASSWORD_ELEMENTS = re.compile(
    r"(<(?:[\w.-]+:)?(?:Password|SECURITY_CD)\b[^>]*>)[^<]*(</(?:[\w.-]+:)?(?:Password|SECURITY_CD)>)"
)


def redact(text: str, *, secrets: Iterable[str] = ()) -> str:
    """`text` without the password, the secret and the security code, in any form they take.

    Elements that carry them are emptied whatever their value; then every known secret is
    removed verbatim and in its XML-escaped form, wherever an answer may echo it.
    """
    text = _PASSWORD_ELEMENTS.sub(rf"\1{REDACTED}\2", text)
    for secret in secrets:
        if not secret:
            continue
        for form in {secret, escape(secret), escape(secret, {'"': "&quot;", "'": "&apos;"})}:
            text = text.replace(form, REDACTED)
    return text


def decode(content: bytes, *, limit: int = MAX_ANSWER_BYTES) -> str:
    """An answer as text for the audit trail, cut to `limit` bytes."""
    text = content[:limit].decode("utf-8", errors="replace")
    if len(content) > limit:
        text += f"\n[cut: {len(content)} bytes in all]"
    return text
