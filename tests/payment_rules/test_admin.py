"""The Payment Rules back office as a payment admin uses it."""

import pytest
from django.urls import reverse

from integrations.models import Integration
from payment_rules.models import PaymentRule, RuleDestinationPostalCode
from tests.factories import PaymentTermIntegrationFactory

from .factories import RuleDestinationPostalCodeFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:payment_rules_paymentrule_changelist")
ADD_URL = reverse("admin:payment_rules_paymentrule_add")
SIMULATE_URL = reverse("admin:payment_rules_paymentrule_simulate")


def rule_form(integration, **overrides):
    data = {
        "name": "InfinitePay DACH",
        "enabled": "on",
        "sort_order": "10",
        "currency": "eur",
        "expression": "total > 500",
        "destinations-TOTAL_FORMS": "1",
        "destinations-INITIAL_FORMS": "0",
        "destinations-0-country": "DE",
        "destinations-0-region": "de-by",
        "destinations-0-postal_codes": "80331, 80333\n80335",
        "methods-TOTAL_FORMS": "1",
        "methods-INITIAL_FORMS": "0",
        "methods-0-integration": str(integration.pk),
        "methods-0-options": "{}",
    }
    data.update(overrides)
    return data


def test_list_shows_rules_with_methods_and_destinations(admin_client, make_rule, payment_term):
    rule = make_rule(name="Fallback EUR", sort_order=20, destinations=[{"country": "AT"}])
    RuleDestinationPostalCodeFactory(destination=rule.destinations.get(), postal_code="1010")
    make_rule(name="Everywhere USD", currency="USD")
    body = admin_client.get(LIST_URL).content.decode()
    for text in [
        "Fallback EUR",
        "Everywhere USD",
        payment_term.name,
        "Austria (1010)",
        "Everywhere",
    ]:
        assert text in body
    assert reverse("admin:payment_rules_paymentrule_simulate") in body


def test_list_filters(admin_client, make_rule, infinitepay):
    make_rule(name="IP rule", integrations=[infinitepay], destinations=[{"country": "DE"}])
    make_rule(name="Off", enabled=False)
    make_rule(name="Dollar", currency="USD")

    def names(**params):
        response = admin_client.get(LIST_URL, params)
        return sorted(rule.name for rule in response.context["cl"].result_list)

    assert names(enabled__exact="0") == ["Off"]
    assert names(currency__exact="USD") == ["Dollar"]
    assert names(integration=str(infinitepay.pk)) == ["IP rule"]
    assert names(country="DE") == ["IP rule"]
    assert names(country="none") == ["Dollar", "Off"]


def test_enable_and_disable_actions(admin_client, make_rule):
    rules = [make_rule(enabled=False), make_rule(enabled=True)]
    ids = [str(rule.pk) for rule in rules]
    admin_client.post(LIST_URL, {"action": "enable", "_selected_action": ids})
    assert set(PaymentRule.objects.values_list("enabled", flat=True)) == {True}
    response = admin_client.post(
        LIST_URL, {"action": "disable", "_selected_action": ids}, follow=True
    )
    assert set(PaymentRule.objects.values_list("enabled", flat=True)) == {False}
    assert "2 payment rules disabled." in response.content.decode()


def test_add_form_shows_expression_help_with_examples(admin_client):
    body = admin_client.get(ADD_URL).content.decode()
    assert "billing_address" in body and "line_items" in body
    assert "total &gt; 500 and billing_address.country == &quot;DE&quot;" in body


def test_adding_a_rule_with_destination_postal_codes_and_method(admin_client, infinitepay):
    response = admin_client.post(ADD_URL, rule_form(infinitepay))
    assert response.status_code == 302, response.context["errors"]
    rule = PaymentRule.objects.get()
    assert (rule.currency, rule.expression) == ("EUR", "total > 500")
    destination = rule.destinations.get()
    assert (destination.country.code, destination.region) == ("DE", "DE-BY")
    codes = destination.postal_codes.values_list("postal_code", flat=True)
    assert sorted(codes) == ["80331", "80333", "80335"]
    assert rule.methods.get().integration_id == infinitepay.pk


def test_editing_postal_codes_replaces_them(admin_client, infinitepay):
    admin_client.post(ADD_URL, rule_form(infinitepay))
    rule = PaymentRule.objects.get()
    destination = rule.destinations.get()
    data = rule_form(
        infinitepay,
        **{
            "destinations-INITIAL_FORMS": "1",
            "destinations-0-id": str(destination.pk),
            "destinations-0-rule": str(rule.pk),
            "destinations-0-postal_codes": "80331; 90402",
            "methods-INITIAL_FORMS": "1",
            "methods-0-id": str(rule.methods.get().pk),
            "methods-0-rule": str(rule.pk),
        },
    )
    url = reverse("admin:payment_rules_paymentrule_change", args=[rule.pk])
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["errors"]
    codes = RuleDestinationPostalCode.objects.values_list("postal_code", flat=True)
    assert sorted(codes) == ["80331", "90402"]


def test_a_bad_expression_is_refused_with_what_is_wrong(admin_client, infinitepay):
    response = admin_client.post(ADD_URL, rule_form(infinitepay, expression="totl > 500"))
    assert response.status_code == 200
    assert "Unknown variable &#x27;totl&#x27;. Did you mean &#x27;total&#x27;?" in (
        response.content.decode()
    )
    assert not PaymentRule.objects.exists()


def test_a_rule_needs_at_least_one_method(admin_client, infinitepay):
    data = rule_form(infinitepay, **{"methods-TOTAL_FORMS": "0"})
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 200
    assert "A payment rule needs at least one method." in response.content.decode()
    assert not PaymentRule.objects.exists()


def test_a_region_outside_the_country_is_refused(admin_client, infinitepay):
    response = admin_client.post(
        ADD_URL, rule_form(infinitepay, **{"destinations-0-region": "AT-9"})
    )
    assert response.status_code == 200
    assert "The region must lie in the country" in response.content.decode()


def test_simulator_explains_every_rule_and_lists_the_methods(admin_client, make_rule, infinitepay):
    make_rule(name="Dollar rule", currency="USD", sort_order=1)
    make_rule(name="Austria only", destinations=[{"country": "AT"}], sort_order=2)
    make_rule(name="Switched off", enabled=False, sort_order=3)
    make_rule(name="Big orders", expression="total > 1000", sort_order=4)
    make_rule(name="Broken", expression='line_items[0].sku == "X"', sort_order=5)
    make_rule(name="IP stops", integrations=[infinitepay], stop_processing=True, sort_order=6)
    make_rule(name="Too late", sort_order=7)
    response = admin_client.get(
        SIMULATE_URL,
        {"currency": "eur", "billing_country": "DE", "subtotal": "100", "total": "119"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    expected = [
        ("Austria only", "Destination does not match"),
        ("Switched off", "Disabled"),
        ("Big orders", "Expression is false"),
        ("Broken", "Expression failed: Lookup operation failed."),
        ("IP stops", "Stops further processing."),
        ("Too late", "Cut off by an earlier rule"),
    ]
    for name, reason in expected:
        assert name in body and reason in body
    assert "Left out: not applicable to this checkout" in body  # no VAT ID typed
    assert "1 rule of other currencies" in body and "Dollar rule" in body
    assert "No payment method: the buyer cannot check out." in body


def test_simulator_with_a_vat_id_offers_infinitepay(admin_client, make_rule, infinitepay):
    make_rule(integrations=[infinitepay])
    response = admin_client.get(
        SIMULATE_URL,
        {
            "currency": "EUR",
            "billing_country": "DE",
            "subtotal": "100",
            "total": "119",
            "customer_name": "ACME GmbH",
            "customer_vat_id": "DE123456789",
            "line_items": "PALLET, 2, 50, 0.19",
        },
    )
    assert [m.identifier for m in response.context["evaluation"].methods] == [
        infinitepay.method_identifier
    ]


def test_simulator_reports_bad_input(admin_client):
    response = admin_client.get(
        SIMULATE_URL, {"currency": "EURO", "subtotal": "1", "total": "1", "line_items": "x"}
    )
    assert response.context["evaluation"] is None
    errors = response.context["form"].errors
    assert "currency" in errors and "line_items" in errors


def test_simulator_needs_the_view_permission(client, staff_user):
    client.force_login(staff_user)
    assert client.get(SIMULATE_URL).status_code == 403


def test_deactivating_an_integration_first_lists_rules_losing_their_last_method(
    admin_client, make_rule, payment_term
):
    other = PaymentTermIntegrationFactory()
    make_rule(name="Only Payment Term", integrations=[payment_term])
    make_rule(name="Has another", integrations=[payment_term, other])
    url = reverse("admin:integrations_integration_changelist")
    data = {"action": "deactivate", "_selected_action": [str(payment_term.pk)]}
    response = admin_client.post(url, data)
    body = response.content.decode()
    assert "Payment rule &#x27;Only Payment Term&#x27;" in body
    assert "Has another" not in body
    payment_term.refresh_from_db()
    assert payment_term.status == Integration.Status.ACTIVE  # not yet: asks first

    admin_client.post(url, {**data, "confirm": "yes"})
    payment_term.refresh_from_db()
    assert payment_term.status == Integration.Status.INACTIVE


def test_deactivating_without_impact_needs_no_confirmation(admin_client, make_rule, payment_term):
    make_rule(integrations=[payment_term, PaymentTermIntegrationFactory()])
    url = reverse("admin:integrations_integration_changelist")
    admin_client.post(url, {"action": "deactivate", "_selected_action": [str(payment_term.pk)]})
    payment_term.refresh_from_db()
    assert payment_term.status == Integration.Status.INACTIVE


def test_delete_confirmation_lists_rules_losing_their_last_method(
    admin_client, make_rule, payment_term
):
    make_rule(name="Only Payment Term", integrations=[payment_term])
    inactive = PaymentTermIntegrationFactory(status=Integration.Status.INACTIVE)
    make_rule(name="Already without", integrations=[payment_term, inactive])
    url = reverse("admin:payment_term_paymenttermintegration_delete", args=[payment_term.pk])
    body = admin_client.get(url).content.decode()
    assert "Payment rule &#x27;Only Payment Term&#x27;" in body
    assert "Payment rule &#x27;Already without&#x27;" in body  # its other method is inactive

    bulk = admin_client.post(
        reverse("admin:integrations_integration_changelist"),
        {"action": "delete_selected", "_selected_action": [str(payment_term.pk)]},
    )
    assert "Payment rule &#x27;Only Payment Term&#x27;" in bulk.content.decode()
