"""A guarantee's events beside its calls: what the timeline shows besides ApiCall rows.

The services call `record_event` inside the transaction that made the change, so an event
is there exactly when the change is. Ops actions are also in the admin's log (who, when);
an event adds what the pipeline itself did: state changes, failed steps, the sweeper taking
a step over, what check status concluded.

An event's text is an English msgid (marked with `gettext_noop` where it is written) and its
parameters are kept apart: the timeline shows it in the reader's language
(`infinitepay.wording.describe`); a "detail" parameter, raw text from InfinitePay or the
connection, is shown as it came.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    params: Mapping[str, Any] | None = None,
    user: Any = None,
    at: datetime | None = None,
) -> GuaranteeEvent:
    """Write one event of a guarantee; `user` is the person who asked for it, if one did.

    `text` is a msgid, `params` what fills it in (JSON: codes and raw text, never words).
    """
    return GuaranteeEvent.objects.create(
        guarantee_id=guarantee_id,
        kind=kind,
        text=text,
        params=dict(params or {}),
        user=user if user is not None and user.is_authenticated else None,
        at=at or timezone.now(),
    )
