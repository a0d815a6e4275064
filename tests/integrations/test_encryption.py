import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from infinitepay.models import InfinitePayIntegration
from integrations.encryption import UndecryptableSecret, generate_key
from tests.factories import InfinitePayIntegrationFactory

pytestmark = pytest.mark.django_db

OLD_KEY = generate_key()
NEW_KEY = generate_key()


def raw_secrets(pk: int) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT password, secret FROM infinitepay_infinitepayintegration "
            "WHERE integration_ptr_id = %s",
            [pk],
        )
        return cursor.fetchone()


def test_the_database_holds_no_plaintext(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    integration = InfinitePayIntegrationFactory(password="pa55word-123", secret="topsecret-42")
    password_column, secret_column = raw_secrets(integration.pk)
    assert "pa55word-123" not in password_column
    assert "topsecret-42" not in secret_column
    integration.refresh_from_db()
    assert (integration.password, integration.secret) == ("pa55word-123", "topsecret-42")


def test_rotation_keeps_every_secret_readable(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    first = InfinitePayIntegrationFactory(password="first-pass", secret="first-secret")
    second = InfinitePayIntegrationFactory(password="second-pass", secret="second-secret")
    before = raw_secrets(first.pk)

    # A new key goes first; the old one still reads what it wrote.
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    first.refresh_from_db()
    assert first.password == "first-pass"

    call_command("rotate_encryption_keys")
    assert raw_secrets(first.pk) != before

    # After rotation the old key can go.
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.password, first.secret) == ("first-pass", "first-secret")
    assert (second.password, second.secret) == ("second-pass", "second-secret")


def test_a_secret_without_its_key_is_a_clear_error(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    integration = InfinitePayIntegrationFactory()
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    loaded = InfinitePayIntegration.objects.get(pk=integration.pk)  # the row still loads
    with pytest.raises(UndecryptableSecret, match="cannot be decrypted with the configured keys"):
        loaded.secret  # noqa: B018


def test_a_malformed_key_is_a_clear_error(settings):
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        InfinitePayIntegrationFactory()
