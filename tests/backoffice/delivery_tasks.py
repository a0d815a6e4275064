"""A task for the embedded broker's tests: each delivery leaves a file, so the test counts them.

The worker the tests start imports it with `--include tests.backoffice.delivery_tasks`.
"""

import os
from pathlib import Path

from celery import shared_task


@shared_task(name="tests.record_delivery")
def record_delivery(folder: str, number: int) -> None:
    """Leave `<number>` in `folder`; a second delivery of one number leaves `<number>.again`."""
    try:
        os.close(os.open(Path(folder) / str(number), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        (Path(folder) / f"{number}.again").touch()
