"""The payment methods a checkout may offer: what rules hand to checkout."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PaymentMethod:
    """One integration offered at checkout, named by its method identifier `<type>_<id>`."""

    identifier: str
    integration_id: int
    type_key: str
    label: str  # in the active language (modeltranslation falls back to English)
    short_label: str
    # The options of the method configuration of the first rule that offered it.
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)
