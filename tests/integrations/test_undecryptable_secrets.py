"""A stored secret that the configured keys cannot decrypt (its key rotated away).

Every page still renders and says what to do; reading the secret itself raises one clear,
importable error (`UndecryptableSecret`); the start-up check names the integrations.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from infinitepay.models import ApiCall, InfinitePayIntegration
from integrations.checks import check_stored_secrets_decrypt
from integrations.encryption import UNDECRYPTABLE_MESSAGE, UndecryptableSecret, generate_key
from tests.factories import InfinitePayIntegrationFactory
from tests.infinitepay.factories import GuaranteeFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
OLD_KEY = generate_key()
NEW_KEY = generate_key()


@pytest.fixture
def orphaned(settings) -> InfinitePayIntegration:
    """An integration whose secrets were stored with a key the configuration no longer has."""
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    integration = InfinitePayIntegrationFactory(
        name="IP orphaned", password="old-pass", secret="old-secret"
    )
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    return integration


def test_the_row_loads_and_reading_the_secret_says_what_to_do(orphaned):
    integration = InfinitePayIntegration.objects.get(pk=orphaned.pk)
    assert integration.name == "IP orphaned"
    with pytest.raises(UndecryptableSecret, match="IP orphaned") as raised:
        integration.password  # noqa: B018
    assert UNDECRYPTABLE_MESSAGE in str(raised.value)


def test_saving_the_row_keeps_the_secret_as_stored(orphaned, settings):
    integration = InfinitePayIntegration.objects.get(pk=orphaned.pk)
    integration.name = "IP renamed"
    integration.save()

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]  # the old key comes back
    integration = InfinitePayIntegration.objects.get(pk=orphaned.pk)
    assert (integration.name, integration.password, integration.secret) == (
        "IP renamed",
        "old-pass",
        "old-secret",
    )


def test_admin_pages_render_and_say_so(admin_client, orphaned):
    guarantee = GuaranteeFactory(payment__integration=orphaned)
    call = ApiCall.objects.create(
        guarantee=guarantee, operation="reserveOrder", step="reserve", attempt=1, outcome="approved"
    )
    integration_pages = [
        reverse("admin:integrations_integration_changelist"),
        reverse("admin:infinitepay_infinitepayintegration_change", args=[orphaned.pk]),
    ]
    for url in integration_pages:
        response = admin_client.get(url, follow=True)
        assert response.status_code == 200, url
        assert UNDECRYPTABLE_MESSAGE in response.content.decode(), url
    other_pages = [
        reverse("admin:infinitepay_guarantee_changelist"),
        reverse("admin:infinitepay_guarantee_change", args=[guarantee.pk]),
        reverse("admin:infinitepay_apicall_changelist"),
        reverse("admin:infinitepay_apicall_change", args=[call.pk]),
        reverse("admin:checkout_order_change", args=[guarantee.payment.order.pk]),
    ]
    for url in other_pages:
        assert admin_client.get(url).status_code == 200, url


def test_the_change_form_asks_for_the_secrets_again(admin_client, orphaned):
    url = reverse("admin:infinitepay_infinitepayintegration_change", args=[orphaned.pk])
    data = {
        "name": "IP orphaned",
        "label_en": "Invoice",
        "short_label_en": "InfinitePay",
        "client_reference": "DEMO-CLIENT",
        "username": "demo",
        "password": "",
        "secret": "",
        "test_mode": "on",
        "invoice_due_period": "30",
        "shipping_duration": "21",
        "status": "active",
        "default_owner": orphaned.default_owner.pk,
    }
    blank = admin_client.post(url, data)
    assert blank.status_code == 200
    assert set(blank.context["adminform"].form.errors) == {"password", "secret"}
    assert UNDECRYPTABLE_MESSAGE.capitalize() in blank.content.decode()

    entered = admin_client.post(url, {**data, "password": "new-pass", "secret": "new-secret"})
    assert entered.status_code == 302
    integration = InfinitePayIntegration.objects.get(pk=orphaned.pk)
    assert (integration.password, integration.secret) == ("new-pass", "new-secret")


def test_check_connection_reports_it_instead_of_failing(admin_client, orphaned):
    response = admin_client.post(
        reverse("admin:integrations_integration_changelist"),
        {"action": "check_connection", "_selected_action": [orphaned.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert UNDECRYPTABLE_MESSAGE in response.content.decode()


def test_the_system_check_names_the_integrations(orphaned):
    InfinitePayIntegrationFactory(name="IP fine")  # written with the current key

    warnings = check_stored_secrets_decrypt(None, databases=["default"])

    assert [w.id for w in warnings] == ["integrations.W001"]
    assert "IP orphaned" in warnings[0].msg
    assert "password and secret" in warnings[0].msg
    assert UNDECRYPTABLE_MESSAGE in warnings[0].msg
    # Like every database check, only when a database is asked for.
    assert check_stored_secrets_decrypt(None, databases=None) == []


def test_rotation_leaves_what_it_cannot_read_and_says_so(orphaned, settings):
    readable = InfinitePayIntegrationFactory(password="fine-pass")
    settings.FIELD_ENCRYPTION_KEYS = [generate_key(), NEW_KEY]

    with pytest.raises(CommandError, match="IP orphaned"):
        call_command("rotate_encryption_keys")

    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]
    assert InfinitePayIntegration.objects.get(pk=readable.pk).password == "fine-pass"


@pytest.mark.django_db(transaction=False)
def test_the_check_does_not_fail_before_migrations(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--database", "default"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_the_change_forms_check_connection_button_reports_it_too(admin_client, orphaned):
    response = admin_client.post(
        reverse("admin:infinitepay_infinitepayintegration_check_connection", args=[orphaned.pk]),
        follow=True,
    )
    assert response.status_code == 200
    assert UNDECRYPTABLE_MESSAGE in response.content.decode()
