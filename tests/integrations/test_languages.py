"""Integrations in German: the list, its actions, a last check in each reader's language."""

import pytest
from django.urls import reverse
from django.utils.translation import gettext_noop

from backoffice.phrases import Phrase
from integrations import registry, services
from integrations.encryption import UNDECRYPTABLE_PHRASE
from integrations.models import Integration
from tests.factories import InfinitePayIntegrationFactory, PaymentTermIntegrationFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:integrations_integration_changelist")


def test_a_kept_check_reads_in_the_language_of_whoever_reads_it(admin_client):
    integration = InfinitePayIntegrationFactory(name="IP main")
    services.record_connection_check(
        integration_id=integration.pk, connected=False, detail=UNDECRYPTABLE_PHRASE
    )

    german = admin_client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    english = admin_client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Letzte Prüfung vor 0\xa0Minuten fehlgeschlagen: das gespeicherte Geheimnis" in german
    assert "Last check failed 0\xa0minutes ago: the stored secret cannot be decrypted" in english


def test_plain_text_answers_are_kept_as_they_came():
    integration = InfinitePayIntegrationFactory(name="IP main")
    services.record_connection_check(
        integration_id=integration.pk, connected=True, detail="connected as api-user."
    )
    integration.refresh_from_db()
    assert str(integration.last_check_detail) == "connected as api-user."


def test_the_check_action_answers_in_german(admin_client):
    offline = PaymentTermIntegrationFactory(name="Net 30")
    page = admin_client.post(
        LIST_URL,
        {"action": "check_connection", "_selected_action": [offline.pk]},
        HTTP_ACCEPT_LANGUAGE="de",
        follow=True,
    ).content.decode()
    assert "Net 30: ruft keinen Anbieter auf." in page


def test_the_list_and_the_type_choice_speak_german(admin_client):
    PaymentTermIntegrationFactory(name="Net 30")
    listing = admin_client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    choose = admin_client.get(
        reverse("admin:integrations_integration_add"), HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()

    assert "Ausgewählte Integrationen deaktivieren" in listing
    assert "Zahlungsbedingung" in listing  # the Payment Term type, by its German name
    assert "Welche Art von Integration möchten Sie hinzufügen?" in choose


def test_deactivating_counts_in_german(admin_client):
    integrations = [PaymentTermIntegrationFactory(name=f"Net {n}") for n in (30, 60)]
    page = admin_client.post(
        LIST_URL,
        {"action": "deactivate", "_selected_action": [i.pk for i in integrations]},
        HTTP_ACCEPT_LANGUAGE="de",
        follow=True,
    ).content.decode()
    assert "2 Integrationen deaktiviert." in page


class Unreachable(registry.IntegrationType):
    """A type whose check never connects, saying so as types should: in a phrase."""

    key = "unreachable"
    name = "Unreachable"
    model = Integration

    def is_applicable(self, integration, context) -> bool:
        return True

    def start(self, payment) -> None:
        return None

    def describe_status(self, payment) -> str:
        return ""

    def check_connection(self, integration) -> registry.ConnectionCheck:
        return registry.ConnectionCheck(
            False,
            Phrase(
                gettext_noop("%(integration)s: %(problem)s."),
                {"integration": integration.name, "problem": UNDECRYPTABLE_PHRASE},
            ),
        )


def test_the_check_action_keeps_its_answer_for_readers_of_either_language(
    admin_client, admin_user, plug_in_type
):
    plug_in_type(Unreachable())
    integration = Integration.objects.create(
        name="Old provider",
        type="unreachable",
        label="Old",
        short_label="Old",
        default_owner=admin_user,
    )
    answer = admin_client.post(
        LIST_URL,
        {"action": "check_connection", "_selected_action": [integration.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    ).content.decode()
    assert "Old provider: the stored secret cannot be decrypted" in answer

    german = admin_client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    english = admin_client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # The health column stands beside the name: the kept answer leaves it out.
    assert "fehlgeschlagen: das gespeicherte Geheimnis lässt sich" in german
    assert "failed 0\xa0minutes ago: the stored secret cannot be decrypted" in english
