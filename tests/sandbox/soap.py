"""Hand-made SOAP calls to the sandbox, for the tests that need a request's exact shape.

Requests are nested dicts turned into elements in the dict's order: a dict is a block, a
list repeats an element, None is `xsi:nil`, a string is text. Nothing here comes from the
product's client: the tests see the sandbox the way any SOAP client would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from lxml import etree

from sandbox.accounts import Account
from sandbox.contract import DEFAULT_NAMESPACE

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
TOKEN_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
ACCOUNT = Account()
VAT_ID = "DE811907980"


def security_code(order_id: str, *, account: Account = ACCOUNT) -> str:
    """The published recipe: base64 of the lower-case hex HMAC-SHA256 of CLIENT_REF+ORDER_ID."""
    digest = hmac.new(
        account.secret.encode(), (account.client_reference + order_id).encode(), hashlib.sha256
    ).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def client_data(order_id: str) -> dict[str, Any]:
    return {"CLIENT_REF": ACCOUNT.client_reference, "SECURITY_CD": security_code(order_id)}


def reserve_request(
    order_id: str,
    *,
    gross: str = "23800",
    net: str = "20000",
    vat_id: str = VAT_ID,
    company: str = "Muster Handel GmbH",
    email: str = "einkauf@muster.example",
    auto_capture: str = "0",
    auto_activate: str = "0",
    invoice_id: str | None = None,
) -> dict[str, Any]:
    """A reserve shaped as OroCommerce sends it (PHP order, empty BANK_DATA, ISP)."""
    request: dict[str, Any] = {
        "BANK_DATA": {},
        "CLIENT_DATA": client_data(order_id),
        "DEBTOR_DATA": {
            "COMPANY_DATA": {
                "COM_ID_VAT": vat_id,
                "COMPANY_NAME": company,
                "OWNER_FS_NAME": "Erika",
                "OWNER_LS_NAME": "Muster",
            },
            "BD_CITY": "Berlin",
            "BD_COUNTRY": "DEU",
            "BD_EMAIL": email,
            "BD_NAME_FS": "Erika",
            "BD_NAME_LS": "Muster",
            "BD_SALUT": "na",
            "BD_STREET": "Chausseestraße 1",
            "BD_ZIP": "10115",
            "COM_OR_PER": "gmbh",
            "DB_NEW": "1",
            "IP_ADD": "203.0.113.9",
            "ISP": "dsl.example.net",
            "NEG_PAY_HIST": "0",
        },
    }
    if invoice_id is not None:
        request["INVOICE_DATA"] = invoice_data(invoice_id)
    request["ARTICLES"] = {
        "ARTICLE": [
            {
                "ARTICLE_ID": "SKU-1",
                "ARTICLE_NAME": "Paper",
                "ARTICLE_PRICE_GROSS": "11900",
                "ARTICLE_PRICE_NET": "10000",
                "ARTICLE_QUANTITY": "2",
                "ARTICLE_VAT_PERC": "1900",
            }
        ]
    }
    request["ORDER_DATA"] = {
        "AUTO_ACTIVATE": auto_activate,
        "AUTO_CAPTURE": auto_capture,
        **totals(order_id, gross=gross, net=net),
    }
    request["SHIPPING_DATA"] = {"USE_BILL_DATA": "1"}
    return request


def totals(order_id: str, *, gross: str = "23800", net: str = "20000") -> dict[str, Any]:
    """ORDER_DATA's totals as Oro fills them on reserve and capture."""
    return {
        "ORDER_ID": order_id,
        "PAY_TYPE": "1",
        "RABATE_GROSS": "0",
        "RABATE_NET": "0",
        "SHIPPING_PRICE_GROSS": "0",
        "SHIPPING_PRICE_NET": "0",
        "TERMS_ACCEPTED": "1",
        "TRS_AMT_GROSS": gross,
        "TRS_AMT_NET": net,
        "TRS_CURRENCY": "EUR",
        "TRS_DT": datetime.now().strftime("%Y%m%d %H%M%S"),
        "TOTAL_GROSS_CALC_METHOD": "3",
    }


def invoice_data(invoice_id: str) -> dict[str, Any]:
    return {
        "DELAY_IN_DAYS": "0",
        "DELIVERY_DATE": "20260121",
        "DUE_DATE": "20260130",
        "INVOICE_DATE": "20260101",
        "INVOICE_ID": invoice_id,
        "PAYMENT_TERMS": "30",
    }


def order_request(order_id: str, **order_data: str) -> dict[str, Any]:
    """CLIENT_DATA and ORDER_DATA {ORDER_ID, ...}: capture, cancel, check status, apply."""
    return {
        "CLIENT_DATA": client_data(order_id),
        "ORDER_DATA": {"ORDER_ID": order_id, **order_data},
    }


# --- Envelopes --------------------------------------------------------------------------------


def ws_security(
    *,
    username: str = ACCOUNT.username,
    password: str = ACCOUNT.password,
    password_type: str = f"{TOKEN_PROFILE}#PasswordText",
    created: datetime | None = None,
    ttl: timedelta | None = timedelta(seconds=600),
    timestamp: bool = True,
    token: bool = True,
) -> etree._Element:
    """The header Oro's WS-Security filter builds: a Timestamp, then a UsernameToken."""
    security = etree.Element(
        f"{{{WSSE}}}Security",
        {f"{{{SOAP_ENV}}}mustUnderstand": "1"},
        nsmap={"wsse": WSSE, "wsu": WSU},
    )
    if timestamp:
        created = created or datetime.now(UTC)
        stamp = etree.SubElement(security, f"{{{WSU}}}Timestamp")
        etree.SubElement(stamp, f"{{{WSU}}}Created").text = _instant(created)
        if ttl is not None:
            etree.SubElement(stamp, f"{{{WSU}}}Expires").text = _instant(created + ttl)
    if token:
        element = etree.SubElement(security, f"{{{WSSE}}}UsernameToken")
        etree.SubElement(element, f"{{{WSSE}}}Username").text = username
        etree.SubElement(element, f"{{{WSSE}}}Password", Type=password_type).text = password
    return security


def envelope(
    operation: str,
    request: dict[str, Any] | None,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    security: etree._Element | None = None,
    header: bool = True,
) -> bytes:
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV, "xsi": XSI})
    if header:
        etree.SubElement(root, f"{{{SOAP_ENV}}}Header").append(
            ws_security() if security is None else security
        )
    body = etree.SubElement(root, f"{{{SOAP_ENV}}}Body")
    payload = etree.SubElement(body, f"{{{namespace}}}{operation}", nsmap={"ns1": namespace})
    if request is not None:
        payload.append(build("REQUEST", request))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def build(name: str, value: Any) -> etree._Element:
    element = etree.Element(name)
    if value is None:
        element.set(f"{{{XSI}}}nil", "true")
    elif isinstance(value, dict):
        for child, child_value in value.items():
            for item in child_value if isinstance(child_value, list) else [child_value]:
                element.append(build(child, item))
    else:
        element.text = str(value)
    return element


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# --- Calls and answers ----------------------------------------------------------------------


@dataclass
class Reply:
    http_status: int
    root: etree._Element

    @property
    def payload(self) -> etree._Element:
        return self.root.find(f"{{{SOAP_ENV}}}Body")[0]

    @property
    def response(self) -> etree._Element:
        return self.payload.find("RESPONSE")

    def text(self, path: str) -> str | None:
        return self.response.findtext(path)

    @property
    def status(self) -> str | None:
        return self.text("RESPONSE_DATA/STATUS")

    @property
    def ref_no(self) -> str | None:
        return self.text("RESPONSE_DATA/REF_NO")

    @property
    def state(self) -> str | None:
        return self.text("RESPONSE_DATA/ADD_INFO")

    @property
    def error_codes(self) -> list[str]:
        return [e.findtext("ERROR_CD") for e in self.response.iterfind("ERROR_DATA/ERROR")]

    @property
    def faultcode(self) -> str | None:
        return self.payload.findtext("faultcode")

    @property
    def fault_message(self) -> str | None:
        """The GenericSoapFault's message in the fault's detail, if there is one."""
        generic = self.payload.find("detail/{*}GenericSoapFault")
        return None if generic is None else generic.findtext("message")


def post(
    sandbox, content: bytes, *, headers: dict[str, str] | None = None, **options
) -> httpx.Response:
    return httpx.post(
        sandbox.url,
        content=content,
        headers={"Content-Type": "text/xml; charset=utf-8", **(headers or {})},
        **options,
    )


def call(sandbox, operation: str, request: dict[str, Any] | None, **options) -> Reply:
    """Post one call and parse the answer (an answer or a fault)."""
    envelope_options = {
        k: options.pop(k) for k in ("namespace", "security", "header") if k in options
    }
    response = post(sandbox, envelope(operation, request, **envelope_options), **options)
    return Reply(response.status_code, etree.fromstring(response.content))


def reserve(sandbox, order_id: str, **fields) -> Reply:
    return call(sandbox, "reserveOrder", reserve_request(order_id, **fields))
