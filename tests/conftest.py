import os

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import translation

from integrations import registry
from tests.factories import StaffUserFactory

IN_CI = os.environ.get("CI") == "true"

pytest_plugins = ["tests.storefront", "tests.sandbox_fixtures"]


def pytest_sessionstart(session: pytest.Session) -> None:
    """In CI the real services are required: a run on SQLite or without Redis is a failure."""
    if not IN_CI:
        return
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        pytest.exit(f"CI=true needs PostgreSQL (DATABASE_URL); got {engine}", returncode=3)
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.exit("CI=true needs Redis as the broker (CELERY_BROKER_URL)", returncode=3)


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the default language: a request in German leaves German active
    on the thread (LocaleMiddleware does not reset it), and the next test would read it."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hash test passwords cheaply: the default hasher costs most of a test's time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff_user(db):
    return StaffUserFactory()


@pytest.fixture
def ops_client(db, client):
    """The test client logged in as olga, a member of Payment ops (the migration's group)."""
    user = StaffUserFactory(username="olga")
    user.groups.add(Group.objects.get(name="Payment ops"))
    client.force_login(user)
    return client


@pytest.fixture
def plug_in_type():
    """Register integration types for this test only, as an app's `ready()` would.

    Returns the function that registers one; every type it registered is gone after the
    test. Without a model of its own (a test cannot migrate one), a type may keep its
    integrations in the base `Integration` table, whose `type` says whose they are.
    """
    plugged: list[str] = []

    def plug_in(integration_type: registry.IntegrationType) -> registry.IntegrationType:
        registry.register(integration_type)
        plugged.append(integration_type.key)
        return integration_type

    yield plug_in
    for key in plugged:
        registry.unregister(key)


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in this process as they are sent (the tests' default for pipelines)."""
    from backoffice.celery import app

    # Errors are not propagated: Celery runs an eager task's retries only then. A task that
    # fails is logged, and the tests assert the state it left behind.
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous
