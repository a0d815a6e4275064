"""Celery tasks of the guarantee pipeline: thin, idempotent, ids in."""

import logging

from celery import shared_task

from . import services
from .models import Guarantee
from .states import Step

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    name="infinitepay.run_step",
    # The service counts attempts in the database and decides when to give up.
    max_retries=None,
)
def run_step(self, guarantee_id: int, step: str) -> str:
    try:
        run = services.run_step(guarantee_id=guarantee_id, step=Step(step), task_id=self.request.id)
    except Guarantee.DoesNotExist:
        logger.warning("Guarantee %s is gone; %s dropped", guarantee_id, step)
        return "gone"
    if run.retry_in is not None:
        raise self.retry(countdown=run.retry_in)
    return run.outcome


@shared_task(name="infinitepay.sweep_guarantees", ignore_result=True)
def sweep_guarantees() -> dict[str, int]:
    report = services.sweep_guarantees()
    return {"requeued": report.requeued, "taken_over": report.taken_over}
