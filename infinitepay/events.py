"""A guarantee's events beside its calls: what the timeline shows besides ApiCall rows.

The services call `record_event` inside the transaction that made the change, so an event
is there exactly when the change is. Ops actions are also in the admin's log (who, when);
an event adds what the pipeline itself did: state changes, failed steps, the sweeper taking
a step over, what check status concluded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from .models import GuaranteeEvent

Kind = GuaranteeEvent.Kind


def record_event(
    *,
    guarantee_id: int,
    kind: GuaranteeEvent.Kind,
    text: str,
    user: Any = None,
    at: datetime | None = None,
) -> GuaranteeEvent:
    """Write one event of a guarantee; `user` is the person who asked for it, if one did."""
    return GuaranteeEvent.objects.create(
        guarantee_id=guarantee_id,
        kind=kind,
        text=text,
        user=user if user is not None and user.is_authenticated else None,
        at=at or timezone.now(),
    )
