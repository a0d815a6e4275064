"""InfinitePay's contract as the endpoint's own WSDL states it, loaded once per endpoint.

InfinitePay publishes its contract only at `?wsdl` on its live and test endpoints, as
OroCommerce's client reads it. We do the same: zeep reads the WSDL (fetched through our
pooled httpx client) and writes every request by it — target namespace, element names and
order, types — and the WSDL gives the soapAction, the answer's element and the address to
post to. Nothing of these is written in our code.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx
import zeep
import zeep.exceptions
from lxml import etree
from zeep.transports import Transport

from .messages import Operation

WSDL = "http://schemas.xmlsoap.org/wsdl/"
XSD = "http://www.w3.org/2001/XMLSchema"
# A WSDL larger than this is not InfinitePay's (ours: the bound keeps a worker's memory safe).
MAX_WSDL_BYTES = 5 * 1024 * 1024


class ContractUnreadable(Exception):
    """The endpoint's WSDL could not be loaded, or does not describe the operations we call."""


class ContractUnreachable(ContractUnreadable):
    """No connection could be made to fetch the WSDL: the endpoint itself is out of reach."""


@dataclass(frozen=True)
class OperationContract:
    name: str
    soap_action: str
    answer: str  # the Clark name of the answer's body element


@dataclass
class Contract:
    """One endpoint's contract: what to post where, and how its answers are called."""

    wsdl_url: str
    address: str
    operations: dict[Operation, OperationContract]
    _zeep: zeep.Client = field(repr=False)
    _schema_document: etree._Element | None = field(repr=False, default=None)
    _validators: threading.local = field(default_factory=threading.local, repr=False)

    def envelope(self, operation: Operation, body: dict[str, Any], header: etree._Element) -> bytes:
        """The SOAP envelope of one request; ValueError if the WSDL's types cannot carry it."""
        try:
            envelope = self._zeep.create_message(
                self._zeep.service, operation.value, REQUEST=body, _soapheaders=[header]
            )
        except (zeep.exceptions.Error, TypeError, ValueError) as error:
            raise ValueError(
                f"the service description does not take this request: {error}"
            ) from None
        errors = self._schema_errors(envelope)
        if errors:
            raise ValueError("; ".join(errors))
        return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")

    def _schema_errors(self, envelope: etree._Element) -> list[str]:
        """Validate the body against the WSDL's own schema, when it stands on its own."""
        schema = self._validator()
        if schema is None:
            return []
        body = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
        if body is None or not len(body):
            return ["the envelope has no body"]
        payload = body[0]
        if schema.validate(etree.ElementTree(payload)):
            return []
        return [f"{e.message}" for e in schema.error_log]

    def _validator(self) -> etree.XMLSchema | None:
        if self._schema_document is None:
            return None
        schema = getattr(self._validators, "schema", None)
        if schema is None:
            # libxml2 does not build schemas safely in several threads at once.
            with _building:
                schema = self._validators.schema = etree.XMLSchema(self._schema_document)
        return schema


_contracts: dict[tuple[int, str], Contract] = {}
_loading = threading.Lock()
_building = threading.Lock()


def contract_for(wsdl_url: str, *, http: httpx.Client) -> Contract:
    """The contract served at `wsdl_url`, loaded on first use in this process."""
    key = (os.getpid(), wsdl_url)
    contract = _contracts.get(key)
    if contract is None:
        with _loading:
            contract = _contracts.get(key)
            if contract is None:
                contract = _contracts[key] = load_contract(wsdl_url, http=http)
    return contract


def forget_contracts() -> None:
    """Load every WSDL again on next use (tests; an endpoint that changed its contract)."""
    with _loading:
        _contracts.clear()


def load_contract(wsdl_url: str, *, http: httpx.Client) -> Contract:
    """Load and check one WSDL; raise ContractUnreadable with the reason."""
    transport = _HttpxTransport(http)
    try:
        raw = transport.fetched(wsdl_url)
        client = zeep.Client(
            wsdl_url,
            transport=transport,
            settings=zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True),
        )
        service = client.service
    except ContractUnreadable:
        raise
    except Exception as error:  # zeep raises many kinds for a WSDL it cannot read
        raise ContractUnreadable(f"{type(error).__name__}: {error}") from None
    binding = service._binding
    operations = {}
    for operation in Operation:
        try:
            found = binding.get(operation.value)
        except (ValueError, KeyError, zeep.exceptions.Error):
            raise ContractUnreadable(f"it has no operation {operation.value}") from None
        operations[operation] = OperationContract(
            name=operation.value,
            soap_action=found.soapaction or "",
            answer=found.output.body.qname.text,
        )
    return Contract(
        wsdl_url=wsdl_url,
        address=service._binding_options["address"],
        operations=operations,
        _zeep=client,
        _schema_document=_standalone_schema(raw),
    )


def _standalone_schema(raw: bytes) -> etree._Element | None:
    """The WSDL's one inline schema, if it needs nothing else; else zeep's checks are all."""
    try:
        document = etree.fromstring(
            raw, parser=etree.XMLParser(resolve_entities=False, no_network=True)
        )
    except etree.XMLSyntaxError:
        return None
    schemas = document.findall(f"{{{WSDL}}}types/{{{XSD}}}schema")
    if len(schemas) != 1 or schemas[0].find(f"{{{XSD}}}import") is not None:
        return None
    schema = schemas[0]
    if schema.find(f"{{{XSD}}}include") is not None:
        return None
    # Namespace declarations the schema inherits from wsdl:definitions come with it.
    standalone = etree.fromstring(etree.tostring(schema))
    try:
        etree.XMLSchema(standalone)
    except etree.XMLSchemaParseError:
        return None
    return standalone


class _HttpxTransport(Transport):
    """zeep's loading of the WSDL (and any schema it includes), through our httpx client."""

    def __init__(self, http: httpx.Client) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # zeep's Transport is not typed
        self._http = http
        self._fetched: dict[str, bytes] = {}  # zeep asks for the WSDL again: fetch it once

    def _load_remote_data(self, url: str) -> bytes:
        return self.fetched(url)

    def fetched(self, url: str) -> bytes:
        """The document at `url`, fetched once."""
        if url not in self._fetched:
            self._fetched[url] = self._fetch(url)
        return self._fetched[url]

    def _fetch(self, url: str) -> bytes:
        try:
            response = self._http.get(url)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise ContractUnreachable(f"{type(error).__name__}: {error or 'no answer'}") from None
        except httpx.HTTPError as error:
            raise ContractUnreadable(f"{type(error).__name__}: {error or 'no answer'}") from None
        if response.status_code != 200:
            raise ContractUnreadable(f"HTTP {response.status_code} from {url}")
        if len(response.content) > MAX_WSDL_BYTES:
            raise ContractUnreadable(f"{url} is larger than {MAX_WSDL_BYTES} bytes")
        return response.content
