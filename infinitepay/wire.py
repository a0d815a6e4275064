"""The InfinitePay wire format, in one place: envelopes, blocks, encodings and codes.

Money travels as integer cents rounded half-up, dates as `YYYYMMDD`, countries as ISO 3166
alpha-3, flags as `"0"`/`"1"`. Requests carry a WS-Security header (UsernameToken with the
password as text, and a Timestamp valid for 600 s) and a SECURITY_CD that signs the order.
XML is built and parsed with lxml only; parsing resolves no entities, loads no DTD and
reaches no network, and a document with a DOCTYPE is refused (SOAP forbids one).

Choices marked *(ours)* are this project's where InfinitePay's public record is silent;
change them here when the real WSDL is at hand. This module needs no Django, so the sandbox
speaks through it too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django_countries.data import ALT_CODES
from lxml import etree

from .messages import (
    ActivateRequest,
    Address,
    Amounts,
    ApplyTransactionRequest,
    Article,
    CancelRequest,
    CaptureRequest,
    CheckStatusRequest,
    CorrectedDebtor,
    Credentials,
    Exchange,
    Invoice,
    ModifyRequest,
    Operation,
    ProviderMessage,
    Request,
    ReserveRequest,
    Result,
)

NAMESPACE = "urn:infinitepay:ws:v1"  # (ours)
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
TOKEN_LIFETIME = timedelta(seconds=600)
CONTENT_TYPE = "text/xml; charset=utf-8"

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
XSD_PATH = SCHEMA_DIR / "infinitepay.xsd"
WSDL_PATH = SCHEMA_DIR / "infinitepay.wsdl"

# What each operation's REQUEST is called in the schema.
REQUEST_TYPES: dict[Operation, str] = {
    Operation.RESERVE: "REQUEST_RESERVATION",
    Operation.CAPTURE: "REQUEST_CAPTURE",
    Operation.ACTIVATE: "REQUEST_ACTIVATION",
    Operation.CANCEL: "REQUEST_CANCEL",
    Operation.CHECK_STATUS: "REQUEST_CHECK_STATUS",
    Operation.APPLY_TRANSACTION: "REQUEST_APPLY_TRANSACTION",
    Operation.MODIFY: "REQUEST_MODIFY",
}

# Fixed values of the reserve request, as InfinitePay expects them for invoice payments.
PAY_TYPE_INVOICE = "1"
TOTAL_GROSS_CALC_METHOD = "3"
SALUTATION_NOT_GIVEN = "na"

REDACTED = "[redacted]"


class ErrorCode:
    """ERROR_CD values (ours: the sandbox gives them; keep the client's reading here)."""

    INVALID_SECURITY_CODE = "1001"
    UNKNOWN_CLIENT = "1002"
    UNKNOWN_ORDER = "2001"
    INVALID_STATE = "2002"
    ORDER_ID_CONFLICT = "2003"
    CURRENCY_NOT_SUPPORTED = "2004"
    INVALID_AMOUNT = "2005"
    LIMIT_EXCEEDED = "3001"
    DEBTOR_DENIED = "3002"
    ACTIVATION_DENIED = "3003"

    # A wrong Client Reference or secret is a credentials problem, not a business denial.
    AUTHENTICATION = frozenset({INVALID_SECURITY_CODE, UNKNOWN_CLIENT})


class OrderState:
    """The order states check status reports in ADD_INFO (ours)."""

    RESERVED = "RESERVED"
    CAPTURED = "CAPTURED"
    ACTIVATED = "ACTIVATED"
    SETTLED = "SETTLED"
    CANCELED = "CANCELED"
    DENIED = "DENIED"
    ACTIVATION_DENIED = "ACTIVATION_DENIED"


class MalformedXML(ValueError):
    """Not a document this protocol allows (not XML, a DOCTYPE, the wrong shape)."""


# --- Encodings ---------------------------------------------------------------------------


def to_cents(amount: Decimal | int | str) -> int:
    """Money in integer minor units, rounded half-up."""
    cents = (Decimal(amount) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return int(cents)


def from_cents(cents: str | int) -> Decimal:
    return (Decimal(int(cents)) / 100).quantize(Decimal("0.01"))


def vat_rate_code(rate: Decimal | str) -> int:
    """A VAT rate as a fraction, times 10000: 19 % (0.19) is 1900."""
    return int((Decimal(rate) * 10000).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def format_date(day: date) -> str:
    return day.strftime("%Y%m%d")


def parse_date(text: str) -> date:
    return datetime.strptime(text, "%Y%m%d").date()


def format_transaction_time(moment: datetime) -> str:
    """TRS_DT: `YYYYMMDD HHMMSS` in UTC (ours)."""
    return moment.astimezone(UTC).strftime("%Y%m%d %H%M%S")


def format_flag(value: bool) -> str:
    return "1" if value else "0"


def country_alpha3(alpha2: str) -> str:
    try:
        return ALT_CODES[alpha2.upper()][0]
    except KeyError:
        raise ValueError(f"Unknown country code: {alpha2!r}") from None


def country_alpha2(alpha3: str) -> str:
    for alpha2, (code, _numeric) in ALT_CODES.items():
        if code == alpha3.upper():
            return alpha2
    raise ValueError(f"Unknown country code: {alpha3!r}")


def security_code(*, secret: str, client_reference: str, order_id: str) -> str:
    """SECURITY_CD: base64 of the lower-case hex HMAC-SHA256 of CLIENT_REF + ORDER_ID."""
    digest = hmac.new(
        secret.encode(), (client_reference + order_id).encode(), hashlib.sha256
    ).hexdigest()
    return base64.b64encode(digest.encode("ascii")).decode("ascii")


def format_timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# --- Requests ----------------------------------------------------------------------------


def operation_of(request: Request) -> Operation:
    return _OPERATIONS[type(request)]


def build_request(request: Request, *, credentials: Credentials, now: datetime) -> bytes:
    """The SOAP envelope of `request`; raises ValueError if a value cannot be put on the wire."""
    payload = build_payload(request, credentials=credentials, now=now)
    errors = schema_errors(payload)
    if errors:
        raise ValueError("; ".join(errors))
    header = _security_header(credentials, now)
    return serialize(envelope(payload, header=header))


def build_payload(request: Request, *, credentials: Credentials, now: datetime) -> etree._Element:
    """The body's `<op><REQUEST>…</REQUEST></op>` element, as the schema describes it."""
    operation = operation_of(request)
    root = etree.Element(etree.QName(NAMESPACE, operation.value), nsmap={"ip": NAMESPACE})
    body = etree.SubElement(root, "REQUEST")
    client = etree.SubElement(body, "CLIENT_DATA")
    _add(client, "CLIENT_REF", credentials.client_reference)
    code = security_code(
        secret=credentials.secret,
        client_reference=credentials.client_reference,
        order_id=request.order_id,
    )
    _add(client, "SECURITY_CD", code)

    if isinstance(request, CheckStatusRequest):
        order = etree.SubElement(body, "ORDER_DATA")
        _add(order, "ORDER_ID", request.order_id)
    elif isinstance(request, ReserveRequest):
        _add_reservation(body, request, now)
    else:
        _add_order_amounts(body, request.order_id, request.amounts, now)
        if isinstance(request, ActivateRequest):
            _add_invoice(body, request.invoice)
        elif isinstance(request, ModifyRequest) and request.articles:
            _add_articles(body, request.articles)
    return root


def _add_reservation(body: etree._Element, request: ReserveRequest, now: datetime) -> None:
    amounts = request.amounts
    order = etree.SubElement(body, "ORDER_DATA")
    _add(order, "ORDER_ID", request.order_id)
    _add(order, "TRS_CURRENCY", amounts.currency)
    _add(order, "TRS_AMT_GROSS", to_cents(amounts.total_gross))
    _add(order, "TRS_AMT_NET", to_cents(amounts.total_net))
    _add(order, "SHIPPING_PRICE_GROSS", to_cents(amounts.shipping_gross))
    _add(order, "SHIPPING_PRICE_NET", to_cents(amounts.shipping_net))
    _add(order, "RABATE_GROSS", to_cents(amounts.discount_gross))
    _add(order, "RABATE_NET", to_cents(amounts.discount_net))
    _add(order, "PAY_TYPE", PAY_TYPE_INVOICE)
    _add(order, "TERMS_ACCEPTED", format_flag(True))
    _add(order, "TRS_DT", format_transaction_time(now))
    _add(order, "TOTAL_GROSS_CALC_METHOD", TOTAL_GROSS_CALC_METHOD)
    _add(order, "AUTO_CAPTURE", format_flag(request.auto_capture))
    _add(order, "AUTO_ACTIVATE", format_flag(request.auto_activate))

    debtor = request.debtor
    debtor_data = etree.SubElement(body, "DEBTOR_DATA")
    company = etree.SubElement(debtor_data, "COMPANY_DATA")
    _add(company, "COMPANY_NAME", debtor.company_name)
    _add(company, "OWNER_FS_NAME", debtor.owner_first_name)
    _add(company, "OWNER_LS_NAME", debtor.owner_last_name)
    _add(company, "COM_ID_VAT", debtor.vat_id)
    _add(debtor_data, "BD_EMAIL", debtor.email)
    _add(debtor_data, "COM_OR_PER", debtor.legal_form)
    _add(debtor_data, "BD_NAME_FS", debtor.first_name)
    _add(debtor_data, "BD_NAME_LS", debtor.last_name)
    _add_address(debtor_data, "BD", debtor.address)
    _add(debtor_data, "BD_SALUT", SALUTATION_NOT_GIVEN)
    _add(debtor_data, "DB_NEW", format_flag(True))
    _add(debtor_data, "NEG_PAY_HIST", format_flag(False))
    _add(debtor_data, "IP_ADD", debtor.ip_address)

    # (ours) The shipping address is sent whenever it differs from the billing one.
    shipping = etree.SubElement(body, "SHIPPING_DATA")
    ship_to = request.shipping_address
    if ship_to is None or ship_to == debtor.address:
        _add(shipping, "USE_BILL_DATA", format_flag(True))
    else:
        _add(shipping, "USE_BILL_DATA", format_flag(False))
        _add_address(shipping, "DD", ship_to)

    _add_articles(body, request.articles)
    if request.invoice is not None:
        _add_invoice(body, request.invoice)


def _add_order_amounts(
    body: etree._Element, order_id: str, amounts: Amounts, now: datetime
) -> None:
    order = etree.SubElement(body, "ORDER_DATA")
    _add(order, "ORDER_ID", order_id)
    _add(order, "TRS_CURRENCY", amounts.currency)
    _add(order, "TRS_AMT_GROSS", to_cents(amounts.total_gross))
    _add(order, "TRS_AMT_NET", to_cents(amounts.total_net))
    _add(order, "TRS_DT", format_transaction_time(now))


def _add_address(parent: etree._Element, prefix: str, address: Address) -> None:
    _add(parent, f"{prefix}_STREET", address.street)
    _add(parent, f"{prefix}_ZIP", address.postal_code)
    _add(parent, f"{prefix}_CITY", address.city)
    _add(parent, f"{prefix}_COUNTRY", country_alpha3(address.country))


def _add_articles(body: etree._Element, articles: Iterable[Article]) -> None:
    container = etree.SubElement(body, "ARTICLES")
    for article in articles:
        item = etree.SubElement(container, "ARTICLE")
        _add(item, "ARTICLE_ID", article.sku)
        _add(item, "ARTICLE_NAME", article.name)
        _add(item, "ARTICLE_QUANTITY", article.quantity)
        _add(item, "ARTICLE_PRICE_NET", to_cents(article.unit_price_net))
        _add(item, "ARTICLE_PRICE_GROSS", to_cents(article.unit_price_gross))
        _add(item, "ARTICLE_VAT_PERC", vat_rate_code(article.vat_rate))


def _add_invoice(body: etree._Element, invoice: Invoice) -> None:
    data = etree.SubElement(body, "INVOICE_DATA")
    _add(data, "INVOICE_ID", invoice.invoice_id)
    _add(data, "INVOICE_DATE", format_date(invoice.invoice_date))
    _add(data, "DUE_DATE", format_date(invoice.due_date))
    _add(data, "PAYMENT_TERMS", invoice.payment_terms_days)
    _add(data, "DELAY_IN_DAYS", 0)
    _add(data, "DELIVERY_DATE", format_date(invoice.delivery_date))


def _security_header(credentials: Credentials, now: datetime) -> etree._Element:
    security = etree.Element(
        etree.QName(WSSE, "Security"), nsmap={"wsse": WSSE, "wsu": WSU, "soapenv": SOAP_ENV}
    )
    security.set(etree.QName(SOAP_ENV, "mustUnderstand"), "1")
    timestamp = etree.SubElement(security, etree.QName(WSU, "Timestamp"))
    timestamp.set(etree.QName(WSU, "Id"), "TS-1")
    _add(timestamp, etree.QName(WSU, "Created"), format_timestamp(now))
    _add(timestamp, etree.QName(WSU, "Expires"), format_timestamp(now + TOKEN_LIFETIME))
    token = etree.SubElement(security, etree.QName(WSSE, "UsernameToken"))
    token.set(etree.QName(WSU, "Id"), "UT-1")
    _add(token, etree.QName(WSSE, "Username"), credentials.username)
    password = _add(token, etree.QName(WSSE, "Password"), credentials.password)
    password.set("Type", PASSWORD_TEXT)
    return security


def _add(parent: etree._Element, tag: str | etree.QName, value: object) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = str(value)  # lxml escapes; it refuses text XML cannot carry
    return element


# --- Envelopes, parsing and validation ---------------------------------------------------


def envelope(payload: etree._Element, *, header: etree._Element | None = None) -> etree._Element:
    root = etree.Element(etree.QName(SOAP_ENV, "Envelope"), nsmap={"soapenv": SOAP_ENV})
    if header is not None:
        etree.SubElement(root, etree.QName(SOAP_ENV, "Header")).append(header)
    etree.SubElement(root, etree.QName(SOAP_ENV, "Body")).append(payload)
    return root


def fault_envelope(code: str, message: str) -> bytes:
    """A SOAP 1.1 Fault; `code` is `soapenv:Client`, `soapenv:Server` or `wsse:…`."""
    fault = etree.Element(etree.QName(SOAP_ENV, "Fault"), nsmap={"soapenv": SOAP_ENV, "wsse": WSSE})
    _add(fault, "faultcode", code)
    _add(fault, "faultstring", message)
    return serialize(envelope(fault))


def serialize(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


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


def parse_document(content: bytes) -> etree._Element:
    """Parse a SOAP document safely; raise MalformedXML for anything SOAP does not allow."""
    try:
        root = etree.fromstring(content, parser=_safe_parser())
    except etree.XMLSyntaxError as error:
        raise MalformedXML(f"not well-formed XML: {error}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise MalformedXML("a SOAP message must not carry a document type declaration")
    if root.tag != etree.QName(SOAP_ENV, "Envelope"):
        raise MalformedXML(f"not a SOAP envelope: {root.tag}")
    return root


def body_child(root: etree._Element) -> etree._Element:
    body = root.find(etree.QName(SOAP_ENV, "Body"))
    children = [] if body is None else [child for child in body if isinstance(child.tag, str)]
    if len(children) != 1:
        raise MalformedXML("the SOAP body must hold exactly one element")
    return children[0]


_per_thread = threading.local()
# libxml2 does not build schemas safely in several threads at once (a worker's threads all
# start on their first call together): one at a time, each from its own parse of the file.
_schema_building = threading.Lock()


def message_schema() -> etree.XMLSchema:
    """The messages' XSD; one validator per thread, since each keeps its own error log."""
    schema = getattr(_per_thread, "schema", None)
    if schema is None:
        with _schema_building:
            document = etree.parse(str(XSD_PATH), parser=_safe_parser())
            schema = _per_thread.schema = etree.XMLSchema(document)
    return schema


def schema_errors(payload: etree._Element) -> list[str]:
    """Why `payload` (an operation or response element) breaks the schema; empty if valid."""
    schema = message_schema()
    if schema.validate(etree.ElementTree(payload)):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


# --- Responses ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """A SOAP Fault, sorted into what it means for the caller."""

    kind: str  # "authentication", "client" or "server"
    code: str
    message: str


def read_response(operation: Operation, content: bytes, *, exchange: Exchange) -> Result | Fault:
    """Read an answer; raise MalformedXML if it is not this operation's response or a Fault."""
    payload = body_child(parse_document(content))
    if payload.tag == etree.QName(SOAP_ENV, "Fault"):
        return _read_fault(payload)
    if payload.tag != etree.QName(NAMESPACE, f"{operation.value}Response"):
        raise MalformedXML(f"expected {operation.value}Response, got {payload.tag}")
    errors = schema_errors(payload)
    if errors:
        raise MalformedXML("; ".join(errors))
    response = payload.find("RESPONSE")
    data = response.find("RESPONSE_DATA")
    guaranteed = data.findtext("GUAR_AMT")
    return Result(
        operation=operation,
        status=data.findtext("STATUS", "").strip(),
        order_id=data.findtext("ORDER_ID", ""),
        ref_no=data.findtext("REF_NO", ""),
        debtor_id=data.findtext("DB_ID", ""),
        guaranteed_amount=from_cents(guaranteed) if guaranteed else None,
        add_info=data.findtext("ADD_INFO", ""),
        errors=tuple(
            ProviderMessage(code=e.findtext("ERROR_CD", ""), message=e.findtext("ERROR_MSG", ""))
            for e in response.iterfind("ERROR_DATA/ERROR")
        ),
        exchange=exchange,
        corrected_debtor=_read_corrected_debtor(response.find("DEBTOR_CORRECTED_DATA")),
    )


def _read_corrected_debtor(element: etree._Element | None) -> CorrectedDebtor | None:
    if element is None:
        return None
    return CorrectedDebtor(
        company_name=element.findtext("COMPANY_NAME", ""),
        street=element.findtext("BD_STREET", ""),
        postal_code=element.findtext("BD_ZIP", ""),
        city=element.findtext("BD_CITY", ""),
        country=country_alpha2(element.findtext("BD_COUNTRY", "")),
    )


def _read_fault(fault: etree._Element) -> Fault:
    code = (fault.findtext("faultcode") or "").strip()
    message = (fault.findtext("faultstring") or "").strip()
    prefix, _, local = code.rpartition(":")
    namespace = fault.nsmap.get(prefix) if prefix else None
    if namespace == WSSE or local in {"FailedAuthentication", "InvalidSecurity"}:
        kind = "authentication"
    elif local == "Client":
        kind = "client"
    else:
        kind = "server"
    return Fault(kind=kind, code=code, message=message)


def build_response(
    operation: Operation,
    *,
    request_id: str,
    status: str,
    order_id: str,
    ref_no: str = "",
    debtor_id: str = "",
    guaranteed_cents: int | None = None,
    add_info: str = "",
    errors: Iterable[tuple[str, str]] = (),
) -> bytes:
    """An operation's answer envelope (the sandbox speaks through this)."""
    payload = etree.Element(
        etree.QName(NAMESPACE, f"{operation.value}Response"), nsmap={"ip": NAMESPACE}
    )
    response = etree.SubElement(payload, "RESPONSE")
    _add(response, "REQUEST_ID", request_id)
    errors = list(errors)
    if errors:
        error_data = etree.SubElement(response, "ERROR_DATA")
        for code, message in errors:
            error = etree.SubElement(error_data, "ERROR")
            _add(error, "ERROR_CD", code)
            _add(error, "ERROR_MSG", message)
    data = etree.SubElement(response, "RESPONSE_DATA")
    _add(data, "STATUS", status)
    if ref_no:
        _add(data, "REF_NO", ref_no)
    _add(data, "ORDER_ID", order_id)
    if debtor_id:
        _add(data, "DB_ID", debtor_id)
    if guaranteed_cents is not None:
        _add(data, "GUAR_AMT", guaranteed_cents)
    if add_info:
        _add(data, "ADD_INFO", add_info)
    return serialize(envelope(payload))


# --- Redaction ---------------------------------------------------------------------------


def redact(content: bytes, *, secrets: Iterable[str] = ()) -> str:
    """The document as text without password and security code, fit for logs and storage."""
    try:
        root = etree.fromstring(content, parser=_safe_parser())
    except etree.XMLSyntaxError:
        text = content.decode("utf-8", errors="replace")
    else:
        for element in root.iter(etree.QName(WSSE, "Password"), "SECURITY_CD"):
            element.text = REDACTED
        text = etree.tostring(root, encoding="unicode")
    # Belt and braces: whatever the shape, a known secret never survives in the text.
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


_OPERATIONS: dict[type, Operation] = {
    ReserveRequest: Operation.RESERVE,
    CaptureRequest: Operation.CAPTURE,
    ActivateRequest: Operation.ACTIVATE,
    CancelRequest: Operation.CANCEL,
    CheckStatusRequest: Operation.CHECK_STATUS,
    ApplyTransactionRequest: Operation.APPLY_TRANSACTION,
    ModifyRequest: Operation.MODIFY,
}
