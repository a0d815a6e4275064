from django.db import transaction
from django.db.models import QuerySet

from .models import Integration


@transaction.atomic
def set_integrations_status(*, integrations: QuerySet[Integration], status: str) -> int:
    """Activate or deactivate integrations; return how many changed."""
    if status not in Integration.Status.values:
        raise ValueError(f"Unknown integration status: {status!r}")
    return integrations.exclude(status=status).update(status=status)
