"""A handle on a running sandbox, through its control API: the same in-process and across."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import httpx

from .app import SERVICE_PATH


class SandboxHandle:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=10)

    @property
    def url(self) -> str:
        """The SOAP endpoint, for INFINITEPAY_TEST_URL or a client."""
        return self.base_url + SERVICE_PATH

    def set_faults(
        self,
        *,
        rate: float | None = None,
        kinds: Iterable[str] | None = None,
        seed: int | None = None,
        latency_ms: int | None = None,
        timeout_s: float | None = None,
    ) -> dict[str, Any]:
        """Change the fault plan; arguments left out keep their values."""
        given = {
            "rate": rate,
            "kinds": None if kinds is None else sorted(str(kind) for kind in kinds),
            "seed": seed,
            "latency_ms": latency_ms,
            "timeout_s": timeout_s,
        }
        return self._send(
            "PUT", "/sandbox/faults", {k: v for k, v in given.items() if v is not None}
        )

    def fail_next(self, kinds: Iterable[str]) -> list[str]:
        """Make the next calls fail with these faults, in order, whatever the rate."""
        data = {"kinds": [str(kind) for kind in kinds]}
        return self._send("POST", "/sandbox/faults/next", data)["queued"]

    def no_faults(self) -> dict[str, Any]:
        return self.set_faults(rate=0.0)

    def faults(self) -> dict[str, Any]:
        return self._send("GET", "/sandbox/faults")

    def reset(self) -> None:
        self._send("POST", "/sandbox/reset")

    def order(self, order_id: str) -> dict[str, Any] | None:
        response = self._http.get(f"/sandbox/orders/{order_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def debtor(self, vat_id: str) -> dict[str, Any]:
        return self._send("GET", f"/sandbox/debtors/{vat_id}")

    def debtors(self) -> list[dict[str, Any]]:
        return self._send("GET", "/sandbox/debtors")

    def set_limit(self, vat_id: str, limit: Decimal) -> dict[str, Any]:
        return self._send("PUT", f"/sandbox/debtors/{vat_id}/limit", {"limit": str(limit)})

    def calls(self) -> dict[str, Any]:
        return self._send("GET", "/sandbox/calls")

    def close(self) -> None:
        self._http.close()

    def _send(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, path, json=data)
        response.raise_for_status()
        return response.json()
