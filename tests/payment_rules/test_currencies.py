"""Currency codes of payment rules: ISO 4217, stored in capitals, whatever case was typed."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from payment_rules import services
from payment_rules.models import PaymentRule

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:payment_rules_paymentrule_add")
SIMULATE_URL = reverse("admin:payment_rules_paymentrule_simulate")


def add_rule(admin_client, integration, currency: str):
    return admin_client.post(
        ADD_URL,
        {
            "name": "Currency rule",
            "enabled": "on",
            "sort_order": "0",
            "currency": currency,
            "expression": "",
            "destinations-TOTAL_FORMS": "0",
            "destinations-INITIAL_FORMS": "0",
            "methods-TOTAL_FORMS": "1",
            "methods-INITIAL_FORMS": "0",
            "methods-0-integration": str(integration.pk),
            "methods-0-options": "{}",
        },
    )


@pytest.mark.parametrize(("typed", "stored"), [("eur", "EUR"), (" chf ", "CHF"), ("Pln", "PLN")])
def test_the_rule_form_stores_a_typed_code_in_capitals(admin_client, payment_term, typed, stored):
    response = add_rule(admin_client, payment_term, typed)
    assert response.status_code == 302, response.context["errors"]
    assert PaymentRule.objects.get().currency == stored


@pytest.mark.parametrize("typed", ["ABC", "xyz", "E1R", "DEM"])  # DEM: replaced by the euro
def test_the_rule_form_refuses_a_code_that_is_not_iso_4217(admin_client, payment_term, typed):
    response = add_rule(admin_client, payment_term, typed)
    assert response.status_code == 200
    message = f"&#x27;{typed.upper()}&#x27; is not an ISO 4217 currency code"
    assert message in response.content.decode()
    assert not PaymentRule.objects.exists()


def test_the_rule_form_refuses_more_than_three_letters(admin_client, payment_term):
    response = add_rule(admin_client, payment_term, "EURO")
    assert "currency" in response.context["adminform"].form.errors
    assert not PaymentRule.objects.exists()


def test_the_simulator_refuses_an_unknown_currency_and_reads_lower_case(admin_client):
    refused = admin_client.get(SIMULATE_URL, {"currency": "abc", "subtotal": "1", "total": "1"})
    assert refused.context["evaluation"] is None
    assert "&#x27;ABC&#x27; is not an ISO 4217 currency code" in refused.content.decode()
    accepted = admin_client.get(SIMULATE_URL, {"currency": "usd", "subtotal": "1", "total": "1"})
    assert accepted.context["form"].cleaned_data["currency"] == "USD"
    assert accepted.context["evaluation"] is not None


def test_creating_a_rule_in_code_checks_the_currency_too(payment_term):
    with pytest.raises(ValidationError) as error:
        services.create_rule(
            name="Bad", currency="XYZ", methods=[services.MethodSpec(integration=payment_term)]
        )
    assert "currency" in error.value.message_dict
    rule = services.create_rule(
        name="Good", currency="sek", methods=[services.MethodSpec(integration=payment_term)]
    )
    assert rule.currency == "SEK"
