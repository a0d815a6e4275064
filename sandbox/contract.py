"""The contract the sandbox serves: its WSDL and schema, under any target namespace.

contract/infinitepay.xsd and contract/infinitepay.wsdl are written in the default namespace.
Serving under another one replaces it everywhere: the schema's types and elements, the
messages, and the soapAction values (`{namespace}/{operation}`).
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from lxml import etree

DEFAULT_NAMESPACE = "urn:infinitepay:ws:v1"
CONTRACT_DIR = Path(__file__).resolve().parent / "contract"
XSD_PATH = CONTRACT_DIR / "infinitepay.xsd"
WSDL_PATH = CONTRACT_DIR / "infinitepay.wsdl"
SERVICE_PATH = "/ws/InfinitePayAPI"

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_TEXT = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordText"
)
_WSDL = "http://schemas.xmlsoap.org/wsdl/"
_WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"


class Operation(StrEnum):
    """The operations, named as the body element of their request."""

    RESERVE = "reserveOrder"
    CAPTURE = "captureOrder"
    ACTIVATE = "activateOrder"
    APPLY_TRANSACTION = "applyTransactionOnActivatedOrder"
    CANCEL = "cancelOrder"
    CHECK_STATUS = "checkStatusOrder"
    MODIFY = "modifyReservedOrder"


# An absolute URI without what would break XML attributes or Clark notation ({ns}name).
_NAMESPACE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"'&{}\\]+")


def check_namespace(namespace: str) -> str:
    """Return `namespace` if the sandbox can serve under it, else raise ValueError."""
    if not isinstance(namespace, str) or not _NAMESPACE.fullmatch(namespace):
        raise ValueError(f"not an absolute URI fit for a target namespace: {namespace!r}")
    if namespace in {SOAP_ENV, SOAP12_ENV, XSI, WSSE, WSU, _WSDL, _WSDL_SOAP}:
        raise ValueError(f"{namespace} is a namespace of SOAP itself")
    return namespace


def soap_action(namespace: str, operation: Operation) -> str:
    return f"{namespace}/{operation.value}"


@lru_cache(maxsize=16)
def schema(namespace: str = DEFAULT_NAMESPACE) -> bytes:
    """The XSD, served at ?xsd."""
    return _in_namespace(XSD_PATH, namespace)


@lru_cache(maxsize=64)
def wsdl(namespace: str, location: str) -> bytes:
    """The WSDL, served at ?wsdl: the XSD inline in wsdl:types, `location` as the endpoint."""
    document = etree.fromstring(_in_namespace(WSDL_PATH, namespace), parser=safe_parser())
    types = document.find(f"{{{_WSDL}}}types")
    address = document.find(f".//{{{_WSDL_SOAP}}}address")
    assert types is not None and address is not None, "the shipped WSDL has both"
    types.append(etree.fromstring(schema(namespace), parser=safe_parser()))
    address.set("location", location)
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8")


def safe_parser() -> etree.XMLParser:
    """No entities resolved, no DTD loaded, nothing fetched from the network."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False
    )


def _in_namespace(path: Path, namespace: str) -> bytes:
    text = path.read_text(encoding="utf-8")
    if namespace != DEFAULT_NAMESPACE:
        # The files name the default namespace only where it is the namespace: xmlns:ip,
        # targetNamespace and soapAction.
        text = text.replace(DEFAULT_NAMESPACE, check_namespace(namespace))
    return text.encode("utf-8")
