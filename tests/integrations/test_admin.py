"""Manage Integrations in the Django admin, as a payment admin uses it."""

import pytest
from django.urls import reverse

from infinitepay.models import InfinitePayIntegration
from integrations.models import Integration
from tests.factories import InfinitePayIntegrationFactory, PaymentTermIntegrationFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:integrations_integration_changelist")


def form_data(**overrides):
    data = {
        "name": "InfinitePay DE",
        "label_en": "Invoice, guaranteed by InfinitePay",
        "label_de": "Rechnungskauf",
        "short_label_en": "InfinitePay",
        "short_label_de": "",
        "client_reference": "CLIENT-7",
        "username": "api-user",
        "password": "initial-pass",
        "secret": "initial-secret",
        "auto_capture": "on",
        "test_mode": "on",
        "invoice_due_period": "30",
        "shipping_duration": "21",
        "status": "active",
        "default_owner": "",
    }
    data.update(overrides)
    return data


def test_list_shows_every_type_with_its_columns(admin_client):
    infinitepay = InfinitePayIntegrationFactory(name="IP main")
    PaymentTermIntegrationFactory(name="Net 30")
    response = admin_client.get(LIST_URL)
    assert response.status_code == 200
    body = response.content.decode()
    for text in ["IP main", "Net 30", "InfinitePay", "Payment Term", "Active", "Default owner"]:
        assert text in body
    assert infinitepay.default_owner.username in body


def test_list_filters_and_searches(admin_client):
    InfinitePayIntegrationFactory(name="IP main")
    PaymentTermIntegrationFactory(name="Net 30")
    by_type = admin_client.get(LIST_URL, {"type__exact": "payment_term"})
    assert list(by_type.context["cl"].result_list.values_list("name", flat=True)) == ["Net 30"]
    searched = admin_client.get(LIST_URL, {"q": "main"})
    assert list(searched.context["cl"].result_list.values_list("name", flat=True)) == ["IP main"]


def test_add_asks_for_the_type_first(admin_client):
    response = admin_client.get(reverse("admin:integrations_integration_add"))
    assert response.status_code == 200
    assert reverse("admin:infinitepay_infinitepayintegration_add") in response.content.decode()
    assert reverse("admin:payment_term_paymenttermintegration_add") in response.content.decode()


def test_create_edit_deactivate_and_reactivate(admin_client, admin_user):
    add_url = reverse("admin:infinitepay_infinitepayintegration_add")
    form = admin_client.get(add_url).content.decode()
    # The form follows OroCommerce's order.
    order = ["id_label_en", "id_short_label_en", "id_client_reference", "id_username",
             "id_password", "id_secret", "id_auto_capture", "id_auto_activation", "id_test_mode",
             "id_debug_mode", "id_invoice_due_period", "id_shipping_duration", "id_status",
             "id_default_owner"]  # fmt: skip
    positions = [form.index(f'id="{field_id}"') for field_id in order]
    assert positions == sorted(positions)

    response = admin_client.post(add_url, form_data())
    assert response.status_code == 302, response.context["adminform"].form.errors
    integration = InfinitePayIntegration.objects.get(name="InfinitePay DE")
    assert integration.default_owner == admin_user  # defaults to the creator
    assert integration.type == "infinitepay"

    change_url = reverse("admin:infinitepay_infinitepayintegration_change", args=[integration.pk])
    # The shared list links to the type's own form.
    redirect = admin_client.get(
        reverse("admin:integrations_integration_change", args=[integration.pk])
    )
    assert redirect.url == change_url
    edit_page = admin_client.get(change_url).content.decode()
    assert "initial-pass" not in edit_page and "initial-secret" not in edit_page

    response = admin_client.post(
        change_url, form_data(name="InfinitePay DE/AT", password="", secret="", auto_capture="")
    )
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.name == "InfinitePay DE/AT"
    assert integration.auto_capture is False
    assert (integration.password, integration.secret) == ("initial-pass", "initial-secret")

    for action, status in [("deactivate", "inactive"), ("activate", "active")]:
        response = admin_client.post(
            LIST_URL, {"action": action, "_selected_action": [integration.pk]}, follow=True
        )
        assert f"1 integration {action}d." in response.content.decode()
        integration.refresh_from_db()
        assert integration.status == status


def test_edit_form_shows_the_auto_activation_error(admin_client):
    response = admin_client.post(
        reverse("admin:infinitepay_infinitepayintegration_add"),
        form_data(auto_capture="", auto_activation="on"),
    )
    assert response.status_code == 200
    assert "Auto-Activation needs Auto-Capture" in response.content.decode()
    assert not Integration.objects.exists()


def test_staff_without_permission_cannot_open_the_credentials(client, staff_user):
    integration = InfinitePayIntegrationFactory()
    client.force_login(staff_user)
    url = reverse("admin:infinitepay_infinitepayintegration_change", args=[integration.pk])
    assert client.get(url).status_code == 403
