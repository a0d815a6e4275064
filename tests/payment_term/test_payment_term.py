"""Payment Term: the offline integration type next to InfinitePay."""

import pytest
from django.urls import reverse

from checkout.models import Payment
from integrations import registry
from payment_rules.context import CheckoutContext, Customer
from payment_term.demo import seed_integration
from payment_term.models import PaymentTermIntegration
from tests.factories import PaymentTermIntegrationFactory

pytestmark = pytest.mark.django_db


def test_it_is_registered_as_an_integration_type():
    payment_term = registry.get_type("payment_term")
    assert payment_term.model is PaymentTermIntegration
    assert ("payment_term", "Payment Term") in registry.type_choices()


@pytest.mark.parametrize(
    "context",
    [
        CheckoutContext(currency="EUR"),
        CheckoutContext(currency="EUR", customer=Customer(name="Private person")),
        CheckoutContext(currency="EUR", customer=Customer(name="ACME", vat_id="DE1")),
    ],
)
def test_it_applies_to_every_checkout(context):
    integration = PaymentTermIntegrationFactory()
    assert integration.integration_type.is_applicable(integration, context) is True


def test_starting_a_payment_calls_nothing_and_keeps_it_pending():
    payment = Payment(status=Payment.Status.PENDING)
    registry.get_type("payment_term").start(payment)
    assert payment.status == Payment.Status.PENDING


@pytest.mark.parametrize(
    ("status", "words"),
    [(Payment.Status.PENDING, "Pending payment"), (Payment.Status.PAID_IN_FULL, "Paid in full")],
)
def test_the_status_buyers_read_follows_the_payment(status, words):
    assert registry.get_type("payment_term").describe_status(Payment(status=status)) == words


def test_method_identifier_names_type_and_id():
    integration = PaymentTermIntegrationFactory()
    assert integration.method_identifier == f"payment_term_{integration.pk}"


def test_admin_adds_one_with_labels_in_both_languages(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:payment_term_paymenttermintegration_add"),
        {
            "name": "Net 30",
            "label_en": "Invoice (30 days net)",
            "label_de": "Rechnung (30 Tage netto)",
            "short_label_en": "Payment Term",
            "short_label_de": "",
            "status": "active",
            "default_owner": "",
        },
    )
    assert response.status_code == 302
    integration = PaymentTermIntegration.objects.get()
    assert integration.type == "payment_term"
    assert integration.default_owner == admin_user
    assert (integration.label_de, integration.short_label_de) == ("Rechnung (30 Tage netto)", None)


def test_labels_are_required_in_english(admin_client):
    response = admin_client.post(
        reverse("admin:payment_term_paymenttermintegration_add"),
        {"name": "Net 30", "label_en": "", "short_label_en": "", "status": "active"},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "label_en" in errors and "short_label_en" in errors
    assert not PaymentTermIntegration.objects.exists()


def test_demo_integration_is_created_once(staff_user):
    first = seed_integration(owner=staff_user)
    assert seed_integration(owner=staff_user) == first
    assert PaymentTermIntegration.objects.count() == 1
