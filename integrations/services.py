from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from backoffice.phrases import Phrase

from .models import Integration


@transaction.atomic
def set_integrations_status(*, integrations: QuerySet[Integration], status: str) -> int:
    """Activate or deactivate integrations; return how many changed."""
    if status not in Integration.Status.values:
        raise ValueError(f"Unknown integration status: {status!r}")
    return integrations.exclude(status=status).update(status=status)


def record_connection_check(*, integration_id: int, connected: bool, detail: Phrase | str) -> None:
    """Keep the last Check connection of an integration's saved settings.

    A phrase is kept with its parameters, to be read in each reader's language; plain text
    (a type that does not say its answer as a phrase) is kept as it is.
    """
    message = detail if isinstance(detail, Phrase) else Phrase(text=detail)
    # An update, not a save: the settings themselves, and when they changed, stay as they are.
    Integration.objects.filter(pk=integration_id).update(
        last_check_at=timezone.now(), last_check_ok=connected, last_check_message=message.as_json()
    )
