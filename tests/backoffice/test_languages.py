"""The back office in German and English: chosen by the browser or the switcher, money and
dates in the language's format."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from backoffice.money import format_money

NBSP = "\N{NO-BREAK SPACE}"


def test_money_is_written_as_each_language_writes_it():
    amount = Decimal("1197.02")
    with translation.override("de"):
        assert format_money(amount, "EUR") == f"1.197,02{NBSP}€"
    with translation.override("en"):
        assert format_money(amount, "EUR") == "€1,197.02"


def test_the_money_filter_formats_an_amount_with_its_currency():
    template = Template("{% load money %}{{ amount|money:currency }}")
    context = Context({"amount": Decimal("9520000012.5"), "currency": "CHF"})
    with translation.override("de"):
        assert template.render(context) == f"9.520.000.012,50{NBSP}CHF"
    with translation.override("en"):
        assert template.render(context) == "CHF9,520,000,012.50"


@pytest.mark.django_db
def test_a_german_browser_gets_the_back_office_in_german(client):
    page = client.get(reverse("admin:login"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert 'lang="de"' in page
    assert "InfinitePay-Backoffice" in page
    assert "Anmelden" in page


@pytest.mark.django_db
def test_the_switcher_on_the_login_page_changes_the_language_and_stays_on_the_page(admin_client):
    login_page = reverse("admin:login")
    client = admin_client
    client.logout()
    page = client.get(login_page, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'action="{reverse("set_language")}"' in page
    assert '<option value="de" lang="de">Deutsch</option>' in page

    answer = client.post(reverse("set_language"), {"language": "de", "next": login_page})

    assert answer.status_code == 302
    assert answer["Location"] == login_page
    # The choice outlives the browser's own preference.
    assert "Anmelden" in client.get(login_page, HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.django_db
def test_every_back_office_page_offers_the_switcher(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert '<option value="en" lang="en" selected>English</option>' in page
    assert f'<input type="hidden" name="next" value="{reverse("admin:index")}">' in page

    admin_client.post(reverse("set_language"), {"language": "de", "next": "/admin/"})

    page = admin_client.get(reverse("admin:index")).content.decode()
    assert '<option value="de" lang="de" selected>Deutsch</option>' in page
    assert "<h1>Zahlungen</h1>" in page


@pytest.mark.django_db
def test_a_page_not_open_to_a_role_says_so_in_german(ops_client):
    from tests.factories import InfinitePayIntegrationFactory

    integration = InfinitePayIntegrationFactory()

    answer = ops_client.get(
        reverse("admin:infinitepay_infinitepayintegration_change", args=[integration.pk]),
        HTTP_ACCEPT_LANGUAGE="de",
    )

    page = answer.content.decode()
    assert answer.status_code == 403
    assert "Nur <strong>Zahlungsadministratoren</strong> öffnen sie" in page
    assert "Sie sind als <strong>olga</strong> angemeldet, mit der Rolle Zahlungsbetrieb." in page


def test_money_rounds_half_up_to_the_currencys_digits():
    with translation.override("en"):
        assert format_money(Decimal("0.125"), "EUR") == "€0.13"
        assert format_money(Decimal("1500.5"), "JPY") == "¥1,501"
