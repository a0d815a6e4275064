"""Payment rules in German: the form, the list and what is wrong with an expression."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from payment_rules.evaluator import RuleOutcome

from .test_admin import ADD_URL, LIST_URL, SIMULATE_URL, rule_form

pytestmark = pytest.mark.django_db


def test_an_expression_error_reads_in_each_readers_language(admin_client, infinitepay):
    form = rule_form(infinitepay, expression="totl > 5")

    german = admin_client.post(ADD_URL, form, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    # The compiled expression's error is cached; the English reader still reads English.
    english = admin_client.post(ADD_URL, form, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Unbekannte Variable &#x27;totl&#x27;. Meinten Sie &#x27;total&#x27;?" in german
    assert "Unknown variable &#x27;totl&#x27;. Did you mean &#x27;total&#x27;?" in english


def test_a_limit_reads_in_german_with_german_numbers(admin_client, infinitepay):
    too_long = "total > 1 and " * 400 + "total > 1"  # 5,609 characters
    page = admin_client.post(
        ADD_URL, rule_form(infinitepay, expression=too_long), HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    assert "Ausdruck zu lang: 5.609 Zeichen, höchstens 5.000." in page


def test_the_rule_form_and_list_speak_german(admin_client, make_rule):
    make_rule(name="Fallback EUR", destinations=[{"country": "AT"}])

    form = admin_client.get(ADD_URL, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    listing = admin_client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert "Weitere Verarbeitung beenden" in form
    assert "Zahlungsarten (mindestens eine)" in form
    assert "Checkout simulieren" in listing
    assert "Österreich" in listing  # the destination's country by its German name
    assert "Ausgewählte Zahlungsregeln deaktivieren" in listing


def test_the_enable_action_counts_in_german(admin_client, make_rule):
    rules = [make_rule(name=f"Rule {n}", enabled=False) for n in range(2)]
    page = admin_client.post(
        LIST_URL,
        {"action": "enable", "_selected_action": [r.pk for r in rules]},
        HTTP_ACCEPT_LANGUAGE="de",
        follow=True,
    ).content.decode()
    assert "2 Zahlungsregeln aktiviert." in page


def test_the_simulator_explains_in_german(admin_client, make_rule):
    make_rule(name="Only CHF", currency="CHF")
    page = admin_client.get(
        SIMULATE_URL, {"currency": "EUR", "subtotal": "0", "total": "0"}, HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    assert "Keine Zahlungsart: Der Käufer kann nicht bestellen." in page
    assert "1 Regel anderer Währungen (falsche Währung)" in page
    assert reverse("admin:payment_rules_paymentrule_simulate") in page


def test_a_destinations_region_field_is_sized_for_its_code_so_the_german_form_fits(
    admin_client, make_rule
):
    """The German country names widen the destinations' table; the region column, which
    holds a code of at most six characters, is sized for that code and not the admin's
    20em, so the table stays within a 1280 px page."""
    rule = make_rule(destinations=[{"country": "DE", "region": "DE-BY"}])
    url = reverse("admin:payment_rules_paymentrule_change", args=[rule.pk])

    page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()

    region = re.search(r'<input[^>]*name="destinations-0-region"[^>]*>', page)
    assert region, "the destination's region field is missing"
    assert 'value="DE-BY"' in region.group(0)
    assert 'size="8"' in region.group(0)
    assert 'maxlength="6"' in region.group(0)
    assert "vTextField" not in region.group(0)


@pytest.mark.parametrize(("language", "typed"), [("de", "1197,02"), ("en", "1197.02")])
def test_the_simulator_reads_amounts_as_the_reader_writes_them(
    admin_client, make_rule, language, typed
):
    make_rule(name="Mid-sized orders", expression="total > 1000 and total < 1200")
    response = admin_client.get(
        SIMULATE_URL,
        {"currency": "EUR", "subtotal": typed, "total": typed},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    page = response.content.decode()

    assert response.context["form"].errors == {}
    assert response.context["form"].cleaned_data["total"] == Decimal("1197.02")
    [outcome] = response.context["evaluation"].trace
    assert outcome.outcome == RuleOutcome.APPLIED  # 1,197.02 is between 1,000 and 1,200
    # The amount comes back as the reader typed it, in a text field that keeps the comma.
    total = re.search(r'<input[^>]*name="total"[^>]*>', page)
    assert total and f'value="{typed}"' in total.group(0) and 'type="text"' in total.group(0)
