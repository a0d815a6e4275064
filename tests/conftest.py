import os

import pytest
from django.conf import settings

from tests.factories import StaffUserFactory

IN_CI = os.environ.get("CI") == "true"


def pytest_sessionstart(session: pytest.Session) -> None:
    """In CI the real services are required: a run on SQLite or without Redis is a failure."""
    if not IN_CI:
        return
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        pytest.exit(f"CI=true needs PostgreSQL (DATABASE_URL); got {engine}", returncode=3)
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.exit("CI=true needs Redis as the broker (CELERY_BROKER_URL)", returncode=3)


@pytest.fixture
def staff_user(db):
    return StaffUserFactory()
