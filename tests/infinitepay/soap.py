"""A mocked InfinitePay endpoint at the HTTP transport, and answers written as literal XML.

The endpoint serves the sandbox's WSDL (in any namespace) at ?wsdl, keeps what was posted,
and answers each call with what the test gives it (by default, an approval of the order asked).
"""

from __future__ import annotations

import httpx
from lxml import etree

from sandbox.contract import wsdl

ENDPOINT = "https://infinitepay.test/ws/InfinitePayAPI"
NAMESPACE = "urn:infinitepay:ws:v1"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"


class Endpoint:
    """A mocked InfinitePay endpoint: serves a WSDL, keeps what was posted, answers as told."""

    def __init__(self, namespace: str = NAMESPACE, url: str = ENDPOINT) -> None:
        self.namespace = namespace
        self.url = url
        self.posted: list[httpx.Request] = []
        self.answer: bytes | None = None
        self.status = 200
        self.wsdl_status = 200

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            if self.wsdl_status != 200:
                return httpx.Response(self.wsdl_status, text="gone")
            return httpx.Response(200, content=wsdl(self.namespace, self.url))
        self.posted.append(request)
        body = etree.fromstring(request.content).find(f"{{{SOAP}}}Body")[0]
        order_id = body.findtext(".//ORDER_DATA/ORDER_ID") or ""
        answer = self.answer
        if answer is None:
            answer = approved(etree.QName(body).localname, order_id, self.namespace)
        return httpx.Response(self.status, content=answer)

    def http(self) -> httpx.Client:
        """An httpx client whose every request this endpoint answers."""
        return httpx.Client(transport=httpx.MockTransport(self.handle))


def envelope(inner: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{SOAP}"><s:Body>'
        f"{inner}</s:Body></s:Envelope>"
    ).encode()


def approved(operation: str, order_id: str, namespace: str = NAMESPACE, extra: str = "") -> bytes:
    """An approval (STATUS 1, REF_NO 4711) of `operation` (e.g. "captureOrder")."""
    return envelope(
        f'<ns:{operation}Response xmlns:ns="{namespace}"><RESPONSE>'
        f"<REQUEST_ID>17</REQUEST_ID><RESPONSE_DATA><ORDER_ID>{order_id}</ORDER_ID>"
        f"<REF_NO>4711</REF_NO><STATUS>1</STATUS></RESPONSE_DATA>{extra}"
        f"</RESPONSE></ns:{operation}Response>"
    )


def fault(code: str, message: str) -> bytes:
    """A SOAP 1.1 Fault; `code` may use the prefixes `s` (SOAP) and `wsse` (WS-Security)."""
    return envelope(
        f'<s:Fault xmlns:wsse="{WSSE}"><faultcode>{code}</faultcode>'
        f"<faultstring>{message}</faultstring></s:Fault>"
    )
