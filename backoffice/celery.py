"""The Celery app: configured from Django settings, tasks discovered in every app."""

import os

from celery import Celery, signals
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

app = Celery("backoffice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def close_old_database_connections(sender=None, **kwargs) -> None:
    """Between tasks, drop the thread's connection only if broken or older than CONN_MAX_AGE.

    An eager task runs inside its caller's transaction: its connection is left alone.
    """
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    close_old_connections()
