"""Fault injection: which calls misbehave, how, reproducibly by seed."""

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
    SOAP_FAULT = "soap_fault"  # HTTP 500 with a soap:Server Fault; nothing happens
    DROP = "drop"  # the connection is closed before anything happens
    TIMEOUT = "timeout"  # the answer comes after `timeout_s` (longer than the client waits)
    LOST_ANSWER = "lost_answer"  # the call takes effect, then the connection is closed


@dataclass(frozen=True)
class FaultPlan:
    """A share `rate` of calls gets one of `kinds`, drawn from a generator seeded by `seed`."""

    rate: float = 0.0
    kinds: frozenset[FaultKind] = field(default_factory=lambda: frozenset(FaultKind))
    seed: int = 0
    latency_ms: int = 500
    timeout_s: float = 60.0

    @classmethod
    def from_json(cls, data: dict[str, Any], *, base: FaultPlan | None = None) -> FaultPlan:
        """Read a plan from the control API; missing keys keep `base`'s values."""
        base = base or cls()
        unknown = set(data) - {"rate", "kinds", "seed", "latency_ms", "timeout_s"}
        if unknown:
            raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
        kinds = data.get("kinds")
        plan = cls(
            rate=float(data.get("rate", base.rate)),
            kinds=base.kinds if kinds is None else frozenset(FaultKind(k) for k in kinds),
            seed=int(data.get("seed", base.seed)),
            latency_ms=int(data.get("latency_ms", base.latency_ms)),
            timeout_s=float(data.get("timeout_s", base.timeout_s)),
        )
        if not 0.0 <= plan.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if plan.rate and not plan.kinds:
            raise ValueError("a fault rate needs at least one kind")
        if plan.latency_ms < 0 or plan.timeout_s < 0:
            raise ValueError("latency_ms and timeout_s must not be negative")
        return plan

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kinds"] = sorted(self.kinds)
        return data


class FaultInjector:
    """Draws the fault of each call in arrival order; the same seed gives the same sequence.

    Faults queued with `fail_next` come first, one per call, whatever the rate: tests use
    them to make exactly the next call misbehave.
    """

    def __init__(self, plan: FaultPlan) -> None:
        self._queued: deque[FaultKind] = deque()
        self.configure(plan)

    def configure(self, plan: FaultPlan) -> None:
        self.plan = plan
        self._random = random.Random(plan.seed)
        self._kinds = sorted(plan.kinds)

    def fail_next(self, kinds: Iterable[FaultKind]) -> None:
        self._queued.extend(kinds)

    def clear_queue(self) -> None:
        self._queued.clear()

    @property
    def queued(self) -> list[FaultKind]:
        return list(self._queued)

    def draw(self) -> FaultKind | None:
        if self._queued:
            return self._queued.popleft()
        if self.plan.rate <= 0 or not self._kinds:
            return None
        if self._random.random() >= self.plan.rate:
            return None
        return self._random.choice(self._kinds)
