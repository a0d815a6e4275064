"""InfinitePay in German and English: the back office reads in the reader's language, what
the pipeline stores reads in whoever's language reads it, and the wire does not change."""

import html
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.urls import reverse
from django.utils import timezone, translation

from infinitepay import wire
from infinitepay.client import InfinitePayClient
from infinitepay.forms import DebtorDataForm
from infinitepay.messages import Operation as SoapOperation
from infinitepay.models import Guarantee
from infinitepay.states import State, Step
from infinitepay.steps import STEPS

pytestmark = pytest.mark.django_db

CATALOGUE = Path(__file__).parents[2] / "infinitepay/locale/de/LC_MESSAGES/django.po"
# What changes from one second to the next: the transaction time and the WS-Security stamps.
TIME_FIELDS = re.compile(rb"<([\w:]*(?:TRS_DT|Created|Expires))>[^<]*</\1>")


@pytest.fixture
def failed(place, infinitepay, sandbox, settings):
    """A guarantee whose Reserve met HTTP 500 until the pipeline gave up on it."""
    settings.INFINITEPAY_MAX_ATTEMPTS = 2
    sandbox.set_faults(rate=1.0, kinds=["http_500"])
    guarantee = place(infinitepay)
    sandbox.set_faults(rate=0.0)
    assert (guarantee.state, guarantee.failed_step) == (State.NEW, Step.RESERVE)
    return guarantee


def german(client, url: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 200
    assert response["Content-Language"] == "de"
    return html.unescape(response.content.decode())


def english_left_in(page: str) -> list[str]:
    """Our English sentences and phrases (of two words or more) that a German page still shows.

    Only texts the catalogue words differently in German count, placeholders aside.
    """
    with CATALOGUE.open("rb") as po:
        catalogue = read_po(po, locale="de")
    text = re.sub(r"<[^>]+>", " ", page)
    left = []
    for message in catalogue:
        english = message.id if isinstance(message.id, str) else message.id[0]
        german_text = message.string if isinstance(message.string, str) else message.string[0]
        if not english or "%(" in english or " " not in english or english == german_text:
            continue
        if re.search(rf"(?<!\w){re.escape(english)}(?!\w)", text):
            left.append(english)
    return left


def test_the_guarantee_page_reads_in_german_with_what_infinitepay_said_as_it_came(
    admin_client, failed
):
    page = german(admin_client, reverse("admin:infinitepay_guarantee_change", args=[failed.pk]))

    for words in [
        "Verlauf",  # the timeline
        "NEU",  # the state
        "bei Reservierung",  # the step that failed
        "Fehler auf Seiten von InfinitePay",  # why, stored as its msgid
        "Reservierung fehlgeschlagen: Fehler auf Seiten von InfinitePay",  # the event
        "Statusabfrage fehlgeschlagen",  # the check that followed
        "Vorübergehender Fehler",  # each call's outcome
        "Erneut versuchen…",  # the operations that fit
        "Stornieren (Status abfragen, dann freigeben oder schließen)…",
        "68,86\xa0€",  # money as German writes it
    ]:
        assert words in page, words
    assert "HTTP 500" in page  # the provider's words stay as they came
    assert english_left_in(page) == []


def test_the_dashboard_reads_in_german(admin_client, failed):
    page = german(admin_client, reverse("dashboard"))

    for words in [
        "Fehlgeschlagene Schritte nach Grund",
        "Fehler auf Seiten von InfinitePay",
        "Reservierung",
        "Fehlgeschlagene Schritte",
        "Fehler in der letzten Stunde",
        "Bestellungen pro Tag, letzte 30 Tage, nach Zahlungsstatus",
        "Aufrufe ohne verwertbare Antwort, letzte 24 Stunden, je Integration (%)",
        "Problem: 1 fehlgeschlagener Schritt",
    ]:
        assert words in page, words
    assert english_left_in(page) == []


def test_an_operations_confirmation_reads_in_german(admin_client, failed):
    page = german(admin_client, reverse("admin:infinitepay_guarantee_retry", args=[failed.pk]))

    for words in [
        "Erneut versuchen: 1 Zahlungsgarantie?",
        "InfinitePay prüft den Käufer und reserviert, wenn es zustimmt, den Betrag",
        "reserveOrder",
        "68,86\xa0€",
        "Ja, erneut versuchen",
        "Nein, zurück",
    ]:
        assert words in page, words
    assert english_left_in(page) == []


def test_a_bulk_result_reads_in_german_with_counts_in_words(admin_client, place, infinitepay):
    reserved = place(infinitepay)
    canceled = place(infinitepay)
    Guarantee.objects.filter(pk=canceled.pk).update(state=State.CANCELED)

    response = admin_client.post(
        reverse("admin:infinitepay_guarantee_changelist"),
        {"action": "capture", "_selected_action": [reserved.pk, canceled.pk], "confirm": "yes"},
        HTTP_ACCEPT_LANGUAGE="de",
        follow=True,
    )

    said = [str(message) for message in response.context["messages"]]
    assert said == [
        "Erfassen: 1 eingereiht; 1 übersprungen, Eine Zahlungsgarantie im Zustand STORNIERT "
        f"lässt sich nicht erfassen: {canceled.order_id}."
    ]


def test_legal_forms_read_as_infinitepay_words_them_in_german_and_explained_in_english():
    def forms_read_in(language: str) -> dict[str, str]:
        with translation.override(language):
            return {
                code: str(label) for code, label in DebtorDataForm().fields["legal_form"].choices
            }

    german_forms, english_forms = forms_read_in("de"), forms_read_in("en")

    assert german_forms["gmbh_co_kg"] == "GmbH & Co. KG"
    assert german_forms["offtl_einrichtung"] == "öffl. Einrichtung"
    assert german_forms["einzel"] == "Einzelunternehmen, Kleingewerbe, Handelsvertreter"
    assert english_forms["offtl_einrichtung"] == "Public institution"
    assert english_forms["gmbh"] == "GmbH (limited liability company)"
    assert german_forms.keys() == english_forms.keys()  # the codes sent on the wire


def test_a_reserve_is_the_same_on_the_wire_in_german_and_in_english(place, infinitepay):
    guarantee = place(infinitepay, run=False)
    payment = guarantee.payment
    payment.method_data = {"debtor_email": "ap@muster.example", "legal_form": "offtl_einrichtung"}
    payment.amount = Decimal("1197.02")
    payment.save()
    guarantee = Guarantee.objects.select_related(*STEPS[Step.RESERVE].claim_joins).get(
        pk=guarantee.pk
    )

    def reserve_as_sent(language: str) -> bytes:
        with translation.override(language):
            client = InfinitePayClient.for_integration(guarantee.integration)
            request = STEPS[Step.RESERVE].build(guarantee, date(2026, 12, 2))
            now = timezone.now()
            body = wire.request_body(
                request, credentials=client.credentials, now=now, zone=client._zone
            )
            return client.contract().envelope(
                SoapOperation.RESERVE, body, wire.security_header(client.credentials, now)
            )

    german_reserve, english_reserve = reserve_as_sent("de"), reserve_as_sent("en")

    assert b"offtl_einrichtung" in german_reserve  # the code, never a label in any language
    assert TIME_FIELDS.sub(rb"<\1/>", german_reserve) == TIME_FIELDS.sub(rb"<\1/>", english_reserve)


def test_an_activated_guarantee_shows_its_amounts_as_german_writes_money(
    admin_client, place, infinitepay
):
    infinitepay.auto_capture = infinitepay.auto_activation = True
    infinitepay.save()
    activated = place(infinitepay)
    assert activated.state == State.ACTIVATED

    page = german(admin_client, reverse("admin:infinitepay_guarantee_change", args=[activated.pk]))

    assert "garantiert 68,86\xa0€" in page  # where it stands
    assert "68.86" not in page  # no amount left in the machine's format
    assert "AKTIVIERT" in page
    assert "ERFASST → AKTIVIERT" in page  # the timeline's state changes, in German
    assert english_left_in(page) == []


@pytest.mark.parametrize(
    "page",
    [
        "admin:infinitepay_guarantee_changelist",
        "admin:infinitepay_apicall_changelist",
        "admin:infinitepay_infinitepayintegration_add",
    ],
)
def test_the_lists_and_the_integration_form_read_in_german(admin_client, failed, page):
    shown = german(admin_client, reverse(page))

    assert english_left_in(shown) == []
    if page == "admin:infinitepay_guarantee_changelist":
        for words in [
            "fehlgeschlagene Schritte 1",
            "Fehler auf Seiten von InfinitePay",
            "2 Versuche",
        ]:
            assert words in shown, words
