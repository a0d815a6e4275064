"""Fault injection: which calls misbehave, how, reproducibly by seed.

Two kinds of request can misbehave: SOAP calls and fetches of the WSDL (`?wsdl`). Each has
its own fault kinds and its own seeded sequence, so fetching the WSDL does not shift the
faults the calls get.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    LATENCY = "latency"  # answer after `latency_ms`
    HTTP_500 = "http_500"  # plain HTTP 500, no SOAP body; nothing happens
    SOAP_FAULT = "soap_fault"  # HTTP 500, soap:Server Fault with GenericSoapFault; nothing happens
    DROP = "drop"  # the connection is closed before anything happens
    TIMEOUT = "timeout"  # the answer comes after `timeout_s` (longer than the client waits)
    LOST_ANSWER = "lost_answer"  # the call takes effect, then the connection is closed
    ODD_ANSWER = "odd_answer"  # the call takes effect; its answer has unknown elements,
    # another element order and GUAR_AMT as a decimal ("119702.0")
    ODD_STATUS = "odd_status"  # STATUS "7" (neither 0 nor 1); nothing happens
    WSDL_SLOW = "wsdl_slow"  # ?wsdl answers after `wsdl_delay_s`
    WSDL_MISSING = "wsdl_missing"  # ?wsdl answers 404


class Channel(StrEnum):
    CALL = "call"
    WSDL = "wsdl"


WSDL_KINDS = frozenset({FaultKind.WSDL_SLOW, FaultKind.WSDL_MISSING})
CALL_KINDS = frozenset(FaultKind) - WSDL_KINDS
_CHANNEL_KINDS = {Channel.CALL: CALL_KINDS, Channel.WSDL: WSDL_KINDS}


@dataclass(frozen=True)
class FaultPlan:
    """A share `rate` of requests gets one of `kinds`, drawn from generators seeded by `seed`."""

    rate: float = 0.0
    kinds: frozenset[FaultKind] = field(default_factory=lambda: frozenset(FaultKind))
    seed: int = 0
    latency_ms: int = 500
    timeout_s: float = 60.0
    wsdl_delay_s: float = 5.0

    @classmethod
    def from_json(cls, data: dict[str, Any], *, base: FaultPlan | None = None) -> FaultPlan:
        """Read a plan from the control API; missing keys keep `base`'s values."""
        base = base or cls()
        unknown = set(data) - {"rate", "kinds", "seed", "latency_ms", "timeout_s", "wsdl_delay_s"}
        if unknown:
            raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
        kinds = data.get("kinds")
        plan = cls(
            rate=float(data.get("rate", base.rate)),
            kinds=base.kinds if kinds is None else frozenset(FaultKind(k) for k in kinds),
            seed=int(data.get("seed", base.seed)),
            latency_ms=int(data.get("latency_ms", base.latency_ms)),
            timeout_s=float(data.get("timeout_s", base.timeout_s)),
            wsdl_delay_s=float(data.get("wsdl_delay_s", base.wsdl_delay_s)),
        )
        if not 0.0 <= plan.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if plan.rate and not plan.kinds:
            raise ValueError("a fault rate needs at least one kind")
        if min(plan.latency_ms, plan.timeout_s, plan.wsdl_delay_s) < 0:
            raise ValueError("latency_ms, timeout_s and wsdl_delay_s must not be negative")
        return plan

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kinds"] = sorted(self.kinds)
        return data


class FaultInjector:
    """Draws the fault of each request in arrival order; the same seed gives the same sequence.

    Faults queued with `fail_next` come first, whatever the rate: each hits the next request
    of its channel (a WSDL fault the next ?wsdl fetch, any other the next call). Tests use
    them to make exactly the next call misbehave.
    """

    def __init__(self, plan: FaultPlan) -> None:
        self._queued: deque[FaultKind] = deque()
        self.configure(plan)

    def configure(self, plan: FaultPlan) -> None:
        self.plan = plan
        self._random = {
            Channel.CALL: random.Random(plan.seed),
            Channel.WSDL: random.Random(f"wsdl-{plan.seed}"),
        }
        self._kinds = {
            channel: sorted(plan.kinds & kinds) for channel, kinds in _CHANNEL_KINDS.items()
        }

    def fail_next(self, kinds: Iterable[FaultKind]) -> None:
        self._queued.extend(kinds)

    def clear_queue(self) -> None:
        self._queued.clear()

    @property
    def queued(self) -> list[FaultKind]:
        return list(self._queued)

    def draw(self, channel: Channel = Channel.CALL) -> FaultKind | None:
        for kind in self._queued:
            if kind in _CHANNEL_KINDS[channel]:
                self._queued.remove(kind)
                return kind
        kinds = self._kinds[channel]
        if self.plan.rate <= 0 or not kinds:
            return None
        generator = self._random[channel]
        if generator.random() >= self.plan.rate:
            return None
        return generator.choice(kinds)
