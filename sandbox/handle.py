"""A handle on a running sandbox, through its control API: the same in-process and across."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from .contract import SERVICE_PATH


class SandboxHandle:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=10)

    @property
    def url(self) -> str:
        """The SOAP endpoint, for INFINITEPAY_TEST_URL or a client."""
        return self.base_url + SERVICE_PATH

    @property
    def wsdl_url(self) -> str:
        return self.url + "?wsdl"

    # --- The contract ------------------------------------------------------------------------

    def contract(self) -> dict[str, Any]:
        """{"namespace", "start_namespace", "soap_actions": {operation: soapAction}}."""
        return self._send("GET", "/sandbox/contract")

    def namespace(self) -> str:
        return self.contract()["namespace"]

    def set_namespace(self, namespace: str | None) -> dict[str, Any]:
        """Serve the contract under `namespace` (None: the one the sandbox started with)."""
        return self._send("PUT", "/sandbox/contract", {"namespace": namespace})

    # --- Faults ------------------------------------------------------------------------------

    def set_faults(
        self,
        *,
        rate: float | None = None,
        kinds: Iterable[str] | None = None,
        seed: int | None = None,
        latency_ms: int | None = None,
        timeout_s: float | None = None,
        wsdl_delay_s: float | None = None,
    ) -> dict[str, Any]:
        """Change the fault plan; arguments left out keep their values."""
        given = {
            "rate": rate,
            "kinds": None if kinds is None else sorted(str(kind) for kind in kinds),
            "seed": seed,
            "latency_ms": latency_ms,
            "timeout_s": timeout_s,
            "wsdl_delay_s": wsdl_delay_s,
        }
        return self._send(
            "PUT", "/sandbox/faults", {k: v for k, v in given.items() if v is not None}
        )

    def fail_next(self, kinds: Iterable[str]) -> list[str]:
        """Make the next requests fail with these faults, in order, whatever the rate.

        A WSDL fault (wsdl_slow, wsdl_missing) hits the next ?wsdl fetch, any other the
        next SOAP call.
        """
        data = {"kinds": [str(kind) for kind in kinds]}
        return self._send("POST", "/sandbox/faults/next", data)["queued"]

    def no_faults(self) -> dict[str, Any]:
        return self.set_faults(rate=0.0)

    def faults(self) -> dict[str, Any]:
        return self._send("GET", "/sandbox/faults")

    # --- State -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget orders, debtors, limits, the call log and queued faults; the namespace goes
        back to the one the sandbox started with. The fault plan stays."""
        self._send("POST", "/sandbox/reset")

    def order(self, order_id: str) -> dict[str, Any] | None:
        response = self._http.get(f"/sandbox/orders/{quote(order_id, safe='')}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def debtor(self, vat_id: str) -> dict[str, Any]:
        return self._send("GET", f"/sandbox/debtors/{quote(vat_id, safe='')}")

    def debtors(self) -> list[dict[str, Any]]:
        return self._send("GET", "/sandbox/debtors")

    def set_limit(self, vat_id: str, limit: Decimal) -> dict[str, Any]:
        path = f"/sandbox/debtors/{quote(vat_id, safe='')}/limit"
        return self._send("PUT", path, {"limit": str(limit)})

    def calls(self) -> dict[str, Any]:
        """{"operations": {name: n}, "total", "faults": {kind: n}, "wsdl", "in_flight",
        "peak_in_flight"}."""
        return self._send("GET", "/sandbox/calls")

    def call_log(self, operation: str | None = None) -> list[dict[str, Any]]:
        """The last calls, oldest first, optionally of one operation."""
        params = {} if operation is None else {"operation": operation}
        response = self._http.get("/sandbox/calls/log", params=params)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self._http.close()

    def _send(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, path, json=data)
        response.raise_for_status()
        return response.json()
