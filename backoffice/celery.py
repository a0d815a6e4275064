"""The Celery app: configured from Django settings, tasks discovered in every app."""

import os

from celery import Celery, bootsteps, signals
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections

from backoffice import broker  # noqa: F401  (registers the embedded broker, filequeue://)
from backoffice.checks import refuse_to_start_if_misconfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

app = Celery("backoffice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# With every thread busy (late acks, one message per thread), a worker stops asking Redis
# for messages, and its event loop sleeps until its next timer: up to a second, however soon
# a thread is free again (celery/celery#4378). The pipeline's throughput was that second per
# batch of threads (bench/pipeline.py). Woken this often, a free thread takes the next message
# at once; the loop's wake-ups cost next to nothing.
CONSUME_CHECK_SECONDS = 0.02


class WakeToConsume(bootsteps.StartStopStep):
    """Wake the worker's event loop often, so that a free thread is given a message at once."""

    requires = ("celery.worker.components:Hub",)

    def start(self, worker) -> None:
        if worker.hub is not None:
            worker.hub.call_repeatedly(CONSUME_CHECK_SECONDS, _awake)


def _awake() -> None:
    """Nothing: the loop, once awake, asks Redis for messages if a thread is free."""


app.steps["worker"].add(WakeToConsume)


@signals.task_prerun.connect
@signals.task_postrun.connect
def close_old_database_connections(sender=None, **kwargs) -> None:
    """Between tasks, drop the thread's connection only if broken or older than CONN_MAX_AGE.

    An eager task runs inside its caller's transaction: its connection is left alone.
    """
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    close_old_connections()


@signals.worker_init.connect
def check_worker_configuration(sender=None, **kwargs) -> None:
    _refuse_to_start_if_misconfigured("Celery worker")


@signals.beat_init.connect
def check_beat_configuration(sender=None, **kwargs) -> None:
    _refuse_to_start_if_misconfigured("Celery beat")


def _refuse_to_start_if_misconfigured(process: str) -> None:
    """Stop a starting worker or beat on a system check error, as the web server stops."""
    try:
        refuse_to_start_if_misconfigured(process)
    except ImproperlyConfigured as error:
        # Celery logs and swallows a signal handler's exception; SystemExit ends the process.
        raise SystemExit(str(error)) from error
