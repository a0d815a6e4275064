"""SOAP 1.1 envelopes: reading a request safely, writing answers and faults."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from .contract import SOAP12_ENV, SOAP_ENV, WSSE, Operation, safe_parser

CONTENT_TYPE = "text/xml; charset=utf-8"


@dataclass(frozen=True)
class FaultCode:
    prefix: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.prefix}:{self.name}"


CLIENT = FaultCode("soapenv", SOAP_ENV, "Client")
SERVER = FaultCode("soapenv", SOAP_ENV, "Server")
VERSION_MISMATCH = FaultCode("soapenv", SOAP_ENV, "VersionMismatch")
FAILED_AUTHENTICATION = FaultCode("wsse", WSSE, "FailedAuthentication")
MESSAGE_EXPIRED = FaultCode("wsse", WSSE, "MessageExpired")


class SoapFault(Exception):
    """A fault to answer with (HTTP 500). `detail`: a GenericSoapFault with the message.

    Faults about the WS-Security header carry no detail (SOAP 1.1 keeps detail for faults
    about the body).
    """

    def __init__(self, code: FaultCode, message: str, *, detail: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class Envelope:
    header: etree._Element | None
    payload: etree._Element  # the body's one element

    @property
    def name(self) -> str:
        return etree.QName(self.payload).localname

    @property
    def namespace(self) -> str | None:
        return etree.QName(self.payload).namespace


def read_envelope(content: bytes) -> Envelope:
    """Parse a SOAP 1.1 request; anything else raises a SoapFault."""
    try:
        root = etree.fromstring(content, parser=safe_parser())
    except (etree.XMLSyntaxError, ValueError) as error:
        raise SoapFault(CLIENT, f"the request is not well-formed XML: {error}") from None
    if root.getroottree().docinfo.doctype:
        raise SoapFault(CLIENT, "a request may not carry a document type declaration")
    if root.tag == f"{{{SOAP12_ENV}}}Envelope":
        raise SoapFault(VERSION_MISMATCH, "this service speaks SOAP 1.1 only")
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise SoapFault(VERSION_MISMATCH, "the request is not a SOAP 1.1 envelope")
    body = root.find(f"{{{SOAP_ENV}}}Body")
    payload = [] if body is None else [child for child in body if isinstance(child.tag, str)]
    if len(payload) != 1:
        raise SoapFault(CLIENT, "the SOAP Body must hold exactly one element", detail=True)
    return Envelope(header=root.find(f"{{{SOAP_ENV}}}Header"), payload=payload[0])


def peek_operation(content: bytes) -> str:
    """The local name of the body element, for the call log; "unknown" if there is none."""
    try:
        return read_envelope(content).name
    except SoapFault:
        return "unknown"


def answer_envelope(payload: etree._Element) -> bytes:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV})
    etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(payload)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def fault_envelope(fault: SoapFault, *, namespace: str) -> bytes:
    """A SOAP 1.1 Fault; its detail, if any, is the contract's GenericSoapFault."""
    nsmap = {"soapenv": SOAP_ENV, fault.code.prefix: fault.code.namespace}
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap=nsmap)
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    element = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(element, "faultcode").text = str(fault.code)
    etree.SubElement(element, "faultstring").text = fault.message
    if fault.detail:
        detail = etree.SubElement(element, "detail")
        generic = etree.SubElement(
            detail, f"{{{namespace}}}GenericSoapFault", nsmap={"ip": namespace}
        )
        etree.SubElement(generic, "message").text = fault.message
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def operation_of(envelope: Envelope, *, namespace: str) -> Operation:
    """The operation the body element names, in the namespace served now."""
    try:
        operation = Operation(envelope.name)
    except ValueError:
        raise SoapFault(CLIENT, f"unknown operation {envelope.name}", detail=True) from None
    if envelope.namespace != namespace:
        raise SoapFault(
            CLIENT,
            f"{envelope.name} is expected in namespace {namespace}, "
            f"not {envelope.namespace or 'no namespace'}",
            detail=True,
        )
    return operation
