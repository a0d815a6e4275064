"""The InfinitePay SOAP client: one method per operation, a Result or a typed error.

An approval or a denial comes back as a `Result`; a transport or protocol failure is raised as
one of `infinitepay.errors`, and nothing else escapes. Every exchange, with password and
security code removed, rides along (`Result.exchange`, `InfinitePayError.exchange`) for the
audit trail. The wire format itself lives in `infinitepay.wire`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import httpx

from . import wire
from .errors import (
    AuthenticationFailed,
    ConnectionLost,
    InfinitePayError,
    MalformedAnswer,
    ProviderServerError,
    ProviderTimeout,
    ProviderUnreachable,
    RequestRejected,
    TransientError,
)
from .messages import (
    ActivateRequest,
    ApplyTransactionRequest,
    CancelRequest,
    CaptureRequest,
    CheckStatusRequest,
    Credentials,
    Exchange,
    ModifyRequest,
    Request,
    ReserveRequest,
    Result,
)

if TYPE_CHECKING:
    from .models import InfinitePayIntegration

logger = logging.getLogger(__name__)

# Celery runs I/O-bound calls on a thread pool; these bound one process's connections.
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


def now_utc() -> datetime:
    return datetime.now(UTC)


class InfinitePayClient:
    """Calls one InfinitePay account at one endpoint."""

    def __init__(
        self,
        *,
        credentials: Credentials,
        url: str,
        http: httpx.Client,
        debug: bool = False,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.credentials = credentials
        self.url = url
        self.debug = debug
        self._http = http
        self._clock = clock

    @classmethod
    def for_integration(cls, integration: InfinitePayIntegration) -> InfinitePayClient:
        """The client of an integration: its credentials, its endpoint, its pooled connections."""
        from django.conf import settings

        url = (
            settings.INFINITEPAY_TEST_URL
            if integration.test_mode
            else settings.INFINITEPAY_LIVE_URL
        )
        http = pooled_http_client(
            key=("integration", integration.pk, url),
            connect_timeout=settings.INFINITEPAY_CONNECT_TIMEOUT,
            read_timeout=settings.INFINITEPAY_READ_TIMEOUT,
        )
        credentials = Credentials(
            client_reference=integration.client_reference,
            username=integration.username,
            password=integration.password,
            secret=integration.secret,
        )
        return cls(credentials=credentials, url=url, http=http, debug=integration.debug_mode)

    def reserve(self, request: ReserveRequest) -> Result:
        return self.call(request)

    def capture(self, request: CaptureRequest) -> Result:
        return self.call(request)

    def activate(self, request: ActivateRequest) -> Result:
        return self.call(request)

    def cancel(self, request: CancelRequest) -> Result:
        return self.call(request)

    def check_status(self, request: CheckStatusRequest) -> Result:
        return self.call(request)

    def apply_transaction(self, request: ApplyTransactionRequest) -> Result:
        return self.call(request)

    def modify(self, request: ModifyRequest) -> Result:
        return self.call(request)

    def call(self, request: Request) -> Result:
        """Send one request; return InfinitePay's answer or raise an InfinitePayError."""
        operation = wire.operation_of(request)
        secrets = self._secrets(request.order_id)
        try:
            content = wire.build_request(request, credentials=self.credentials, now=self._clock())
        except ValueError as error:
            raise RequestRejected(f"{operation.value} cannot be sent: {error}") from None
        request_xml = wire.redact(content, secrets=secrets)
        if self.debug:
            logger.info("InfinitePay %s request to %s:\n%s", operation.value, self.url, request_xml)

        started = time.perf_counter()

        def exchange(response: httpx.Response | None) -> Exchange:
            return Exchange(
                operation=operation,
                url=self.url,
                request_xml=request_xml,
                response_xml=None
                if response is None
                else wire.redact(response.content, secrets=secrets),
                http_status=None if response is None else response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000),
            )

        try:
            response = self._http.post(
                self.url,
                content=content,
                headers={"Content-Type": wire.CONTENT_TYPE, "SOAPAction": f'"{operation.value}"'},
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
        return self._read(response, record)

    def _read(self, response: httpx.Response, record: Exchange) -> Result:
        status = response.status_code
        if status in (401, 403):
            raise AuthenticationFailed(f"HTTP {status}: credentials rejected", exchange=record)
        try:
            answer = wire.read_response(record.operation, response.content, exchange=record)
        except wire.MalformedXML as error:
            if status >= 500:
                raise ProviderServerError(f"HTTP {status}", exchange=record) from None
            raise MalformedAnswer(f"HTTP {status}: {error}", exchange=record) from None
        if isinstance(answer, wire.Fault):
            raise _fault_error(answer, record)
        if status >= 500:
            raise ProviderServerError(f"HTTP {status}", exchange=record)
        if status != 200:
            raise MalformedAnswer(f"an answer with HTTP status {status}", exchange=record)
        rejected = [e for e in answer.errors if e.code in wire.ErrorCode.AUTHENTICATION]
        if rejected:
            raise AuthenticationFailed(
                "; ".join(f"{e.code} {e.message}" for e in rejected), exchange=record
            )
        return answer

    def _secrets(self, order_id: str) -> tuple[str, ...]:
        code = wire.security_code(
            secret=self.credentials.secret,
            client_reference=self.credentials.client_reference,
            order_id=order_id,
        )
        return (self.credentials.password, self.credentials.secret, code)


def _fault_error(fault: wire.Fault, record: Exchange) -> InfinitePayError:
    text = f"{fault.code}: {fault.message}"
    if fault.kind == "authentication":
        return AuthenticationFailed(text, exchange=record)
    if fault.kind == "client":
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
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class ConnectionCheck:
    status: ConnectionStatus
    detail: str


def check_connection(client: InfinitePayClient) -> ConnectionCheck:
    """Make one authenticated call (status of a made-up order) and say how it went."""
    order_id = f"CONNECTION-CHECK-{uuid.uuid4().hex[:12]}"
    try:
        client.check_status(CheckStatusRequest(order_id=order_id))
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
