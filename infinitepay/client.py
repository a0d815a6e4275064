"""The InfinitePay SOAP client: one call, a Result or a typed error.

An approval or a denial comes back as a `Result`; a transport or protocol failure is raised as
one of `infinitepay.errors`, and nothing else escapes. Every exchange, with password, secret
and security code removed, rides along (`Result.exchange`, `InfinitePayError.exchange`) for
the audit trail. The contract comes from the endpoint's WSDL (`infinitepay.contract`); what
we put in each field, and how answers are read, lives in `infinitepay.wire`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import httpx
from django.views.decorators.debug import sensitive_variables

from . import wire
from .contract import Contract, ContractUnreachable, ContractUnreadable, contract_for
from .errors import (
    AuthenticationFailed,
    ConnectionLost,
    InfinitePayError,
    MalformedAnswer,
    ProviderServerError,
    ProviderTimeout,
    ProviderUnreachable,
    RequestRejected,
    ServiceDescriptionUnreadable,
    TransientError,
)
from .messages import CheckStatusRequest, Credentials, Exchange, Request, Result

if TYPE_CHECKING:
    from .models import InfinitePayIntegration

logger = logging.getLogger(__name__)

# Celery runs I/O-bound calls on a thread pool; these bound one process's connections.
# How an unreadable contract's error begins (Check connection words the rest its own way).
UNREADABLE_PREFIX = "InfinitePay's service description could not be read: "
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


def now_utc() -> datetime:
    return datetime.now(UTC)


def wsdl_url(endpoint: str) -> str:
    """Where an endpoint serves its contract: `?wsdl`, as InfinitePay does."""
    return endpoint if endpoint.lower().endswith("?wsdl") else f"{endpoint}?wsdl"


class InfinitePayClient:
    """Calls one InfinitePay account at one endpoint, by the contract that endpoint serves."""

    def __init__(
        self,
        *,
        credentials: Credentials,
        url: str,
        http: httpx.Client,
        debug: bool = False,
        clock: Callable[[], datetime] = now_utc,
        zone: tzinfo = UTC,
    ) -> None:
        self.credentials = credentials
        self.url = url
        self.debug = debug
        self._http = http
        self._clock = clock
        self._zone = zone

    @classmethod
    @sensitive_variables("credentials")
    def for_integration(cls, integration: InfinitePayIntegration) -> InfinitePayClient:
        """The client of an integration: its credentials, its endpoint, its pooled connections."""
        from django.conf import settings

        url = (
            settings.INFINITEPAY_TEST_URL
            if integration.test_mode
            else settings.INFINITEPAY_LIVE_URL
        )
        http = pooled_http_client(
            key=("endpoint", url),
            connect_timeout=settings.INFINITEPAY_CONNECT_TIMEOUT,
            read_timeout=settings.INFINITEPAY_READ_TIMEOUT,
        )
        credentials = Credentials(
            client_reference=integration.client_reference,
            username=integration.username,
            password=integration.password,
            secret=integration.secret,
        )
        return cls(
            credentials=credentials,
            url=url,
            http=http,
            debug=integration.debug_mode,
            zone=ZoneInfo(settings.TIME_ZONE),
        )

    def contract(self) -> Contract:
        """The endpoint's contract; raise ServiceDescriptionUnreadable if it cannot be had
        (ProviderUnreachable if no connection to the endpoint could be made at all)."""
        try:
            return contract_for(wsdl_url(self.url), http=self._http)
        except ContractUnreachable as error:
            raise ProviderUnreachable(str(error)) from None
        except ContractUnreadable as error:
            raise ServiceDescriptionUnreadable(f"{UNREADABLE_PREFIX}{error}") from None

    @sensitive_variables("secrets", "content")
    def call(self, request: Request) -> Result:
        """Send one request; return InfinitePay's answer or raise an InfinitePayError."""
        operation = wire.operation_of(request)
        secrets = self._secrets(request.order_id)
        contract = self.contract()
        now = self._clock()
        try:
            body = wire.request_body(
                request, credentials=self.credentials, now=now, zone=self._zone
            )
            content = contract.envelope(
                operation, body, wire.security_header(self.credentials, now)
            )
        except ValueError as error:
            message = wire.redact(str(error), secrets=secrets)
            raise RequestRejected(f"{operation.value} cannot be sent: {message}") from None
        request_xml = wire.redact(content.decode("utf-8"), secrets=secrets)
        if self.debug:
            logger.info("InfinitePay %s request to %s:\n%s", operation.value, self.url, request_xml)

        target = contract.operations[operation]
        started = time.perf_counter()

        def exchange(response: httpx.Response | None) -> Exchange:
            return Exchange(
                operation=operation,
                url=contract.address,
                request_xml=request_xml,
                response_xml=None
                if response is None
                else wire.redact(wire.decode(response.content), secrets=secrets),
                http_status=None if response is None else response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000),
            )

        try:
            response = self._http.post(
                contract.address,
                content=content,
                headers={
                    "Content-Type": wire.CONTENT_TYPE,
                    "SOAPAction": f'"{target.soap_action}"',
                },
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise ProviderUnreachable(_describe(error), exchange=exchange(None)) from None
        except httpx.TimeoutException as error:
            raise ProviderTimeout(_describe(error), exchange=exchange(None)) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as error:
            raise ConnectionLost(_describe(error), exchange=exchange(None)) from None
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise ProviderUnreachable(_describe(error), exchange=exchange(None)) from None

        record = exchange(response)
        if self.debug:
            logger.info(
                "InfinitePay %s answer (HTTP %s, %d ms):\n%s",
                operation.value,
                record.http_status,
                record.duration_ms,
                record.response_xml,
            )
        return self._read(response, record, target.answer, request.order_id, secrets)

    def _read(
        self,
        response: httpx.Response,
        record: Exchange,
        answer: str,
        order_id: str,
        secrets: tuple[str, ...],
    ) -> Result:
        status = response.status_code
        try:
            read = wire.read_answer(
                response.content,
                operation=record.operation,
                expected=answer,
                order_id=order_id,
                exchange=record,
            )
        except wire.MalformedXML as error:
            if status >= 500:
                raise ProviderServerError(f"HTTP {status}", exchange=record) from None
            message = wire.redact(str(error), secrets=secrets)
            raise MalformedAnswer(f"HTTP {status}: {message}", exchange=record) from None
        if isinstance(read, wire.Fault):
            raise _fault_error(read, record, secrets)
        if status >= 500:
            raise ProviderServerError(f"HTTP {status}", exchange=record)
        if status != 200:
            raise MalformedAnswer(f"an answer with HTTP status {status}", exchange=record)
        return _redacted(read, secrets)

    @sensitive_variables("code")
    def _secrets(self, order_id: str) -> tuple[str, ...]:
        code = wire.security_code(
            secret=self.credentials.secret,
            client_reference=self.credentials.client_reference,
            order_id=order_id,
        )
        return (self.credentials.password, self.credentials.secret, code)


def _redacted(result: Result, secrets: tuple[str, ...]) -> Result:
    """The provider's free text may echo what we sent: nothing secret is kept of it."""
    return replace(
        result,
        add_info=wire.redact(result.add_info, secrets=secrets),
        errors=tuple(
            replace(e, message=wire.redact(e.message, secrets=secrets)) for e in result.errors
        ),
    )


def _fault_error(fault: wire.Fault, record: Exchange, secrets: tuple[str, ...]) -> InfinitePayError:
    parts = [fault.code, fault.message, fault.detail]
    text = wire.redact(": ".join(part for part in parts if part), secrets=secrets)
    if fault.authentication:
        return AuthenticationFailed(text, exchange=record)
    if fault.client:
        return RequestRejected(text, exchange=record)
    return ProviderServerError(text, exchange=record)


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


# --- Connection pool ---------------------------------------------------------------------

_pool: dict[Hashable, httpx.Client] = {}
_pool_lock = threading.Lock()


def pooled_http_client(
    *,
    key: Hashable,
    connect_timeout: float,
    read_timeout: float,
    limits: httpx.Limits = DEFAULT_LIMITS,
) -> httpx.Client:
    """One httpx.Client per key and process (a forked worker never reuses its parent's)."""
    full_key = (os.getpid(), key, connect_timeout, read_timeout)
    with _pool_lock:
        client = _pool.get(full_key)
        if client is None:
            timeout = httpx.Timeout(
                connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
            )
            client = _pool[full_key] = httpx.Client(timeout=timeout, limits=limits)
        return client


def close_pooled_clients() -> None:
    with _pool_lock:
        clients = list(_pool.values())
        _pool.clear()
    for client in clients:
        client.close()


# --- Check connection --------------------------------------------------------------------


class ConnectionStatus(StrEnum):
    CONNECTED = "connected"
    CREDENTIALS_REJECTED = "credentials rejected"
    SERVICE_DESCRIPTION_UNREADABLE = "service description unreadable"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class ConnectionCheck:
    status: ConnectionStatus
    detail: str


def check_connection(client: InfinitePayClient) -> ConnectionCheck:
    """Load the endpoint's WSDL, make one authenticated call (status of a made-up order)."""
    order_id = f"CONNECTION-CHECK-{uuid.uuid4().hex[:12]}"
    try:
        client.call(CheckStatusRequest(order_id=order_id))
    except ServiceDescriptionUnreadable as error:
        return ConnectionCheck(ConnectionStatus.SERVICE_DESCRIPTION_UNREADABLE, error.message)
    except AuthenticationFailed as error:
        return ConnectionCheck(ConnectionStatus.CREDENTIALS_REJECTED, error.message)
    except TransientError as error:
        return ConnectionCheck(ConnectionStatus.UNREACHABLE, error.message)
    except InfinitePayError as error:
        return ConnectionCheck(
            ConnectionStatus.UNREACHABLE, f"the endpoint does not answer like InfinitePay: {error}"
        )
    # Any answer, even "unknown order", proves that the credentials were accepted.
    return ConnectionCheck(ConnectionStatus.CONNECTED, f"{client.url} accepted the credentials")
