"""What admins and ops enter for InfinitePay stays within what can be sent: the invoice
terms of an integration and the delivery date given at Activate."""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import IntegrityError
from django.urls import reverse
from django.utils import formats, timezone

from checkout.models import Order
from infinitepay.models import Guarantee, InfinitePayIntegration
from infinitepay.operations import Operation, apply_to_guarantees
from infinitepay.states import State
from tests.factories import InfinitePayIntegrationFactory
from tests.infinitepay.factories import GuaranteeFactory

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:infinitepay_infinitepayintegration_add")


def integration_form(**overrides) -> dict[str, str]:
    return {
        "name": "InfinitePay DE",
        "label_en": "Invoice, guaranteed by InfinitePay",
        "label_de": "",
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
        **overrides,
    }


def form_errors(response) -> dict:
    return response.context["adminform"].form.errors


# --- Invoice Due Period and Shipping Duration --------------------------------------------------


@pytest.mark.parametrize("field", ["invoice_due_period", "shipping_duration"])
def test_a_period_of_three_million_days_is_a_form_error(admin_client, field):
    response = admin_client.post(ADD_URL, integration_form(**{field: "3000000"}))
    assert response.status_code == 200
    assert form_errors(response)[field] == ["Ensure this value is less than or equal to 365."]
    assert not InfinitePayIntegration.objects.exists()


def test_periods_of_a_year_are_saved(admin_client):
    response = admin_client.post(
        ADD_URL, integration_form(invoice_due_period="365", shipping_duration="365")
    )
    assert response.status_code == 302
    integration = InfinitePayIntegration.objects.get()
    assert (integration.invoice_due_period, integration.shipping_duration) == (365, 365)


def test_an_integration_cannot_be_edited_past_a_year(admin_client):
    integration = InfinitePayIntegrationFactory()
    url = reverse("admin:infinitepay_infinitepayintegration_change", args=[integration.pk])
    response = admin_client.post(
        url,
        integration_form(name=integration.name, password="", secret="", shipping_duration="366"),
    )
    assert response.status_code == 200
    assert form_errors(response)["shipping_duration"] == [
        "Ensure this value is less than or equal to 365."
    ]
    integration.refresh_from_db()
    assert integration.shipping_duration == 21


def test_the_database_holds_the_bound_too():
    integration = InfinitePayIntegrationFactory()
    with pytest.raises(IntegrityError):
        InfinitePayIntegration.objects.filter(pk=integration.pk).update(invoice_due_period=366)


# --- The delivery date at Activate ------------------------------------------------------------


@pytest.fixture
def captured():
    """A captured guarantee of an order placed three days ago, waiting for Activate."""

    def make() -> Guarantee:
        guarantee = GuaranteeFactory(
            payment__integration=InfinitePayIntegrationFactory(auto_capture=True),
            state=State.CAPTURED,
        )
        Order.objects.filter(pk=guarantee.payment.order_id).update(
            created_at=timezone.now() - timedelta(days=3)
        )
        return guarantee

    return make


def activate_url(guarantee: Guarantee) -> str:
    return reverse("admin:infinitepay_guarantee_activate", args=[guarantee.pk])


def said(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def date_errors(response) -> list[str]:
    return response.context["form"].errors["delivery_date"]


def assert_not_activated(*guarantees: Guarantee) -> None:
    for guarantee in guarantees:
        guarantee.refresh_from_db()
        assert guarantee.state == State.CAPTURED
        assert guarantee.pending_step == ""
        assert guarantee.delivery_date is None


def test_a_delivery_date_in_the_future_is_a_form_error(admin_client, captured):
    guarantee = captured()
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = admin_client.post(
        activate_url(guarantee), {"confirm": "yes", "delivery_date": tomorrow}
    )
    assert response.status_code == 200
    assert date_errors(response) == [
        f"Delivered on {formats.date_format(tomorrow)}, which is in the future: give the day the "
        "goods reached the buyer."
    ]
    assert said(response)[0].startswith("Activate: nothing queued.")
    assert_not_activated(guarantee)


def test_a_delivery_date_before_the_order_was_placed_is_a_form_error(admin_client, captured):
    guarantee = captured()
    too_early = timezone.localdate() - timedelta(days=4)
    response = admin_client.post(
        activate_url(guarantee), {"confirm": "yes", "delivery_date": too_early}
    )
    assert response.status_code == 200
    assert date_errors(response) == [
        f"Delivered on {formats.date_format(too_early)}, before the order was placed "
        f"({guarantee.payment.order.number})."
    ]
    assert_not_activated(guarantee)


@pytest.mark.parametrize("days_ago", [0, 3])
def test_a_delivery_date_from_the_order_day_to_today_is_accepted(admin_client, captured, days_ago):
    guarantee = captured()
    delivered = timezone.localdate() - timedelta(days=days_ago)
    response = admin_client.post(
        activate_url(guarantee), {"confirm": "yes", "delivery_date": delivered}, follow=True
    )
    assert said(response) == ["Activate: 1 queued, 0 skipped."]
    guarantee.refresh_from_db()
    assert guarantee.delivery_date == delivered


def test_activating_in_bulk_refuses_a_date_before_any_of_the_orders(admin_client, captured):
    older, newer = captured(), captured()
    Order.objects.filter(pk=newer.payment.order_id).update(created_at=timezone.now())
    yesterday = timezone.localdate() - timedelta(days=1)
    response = admin_client.post(
        reverse("admin:infinitepay_guarantee_changelist"),
        {
            "action": "activate",
            ACTION_CHECKBOX_NAME: [older.pk, newer.pk],
            "confirm": "yes",
            "delivery_date": yesterday,
        },
    )
    assert response.status_code == 200
    assert date_errors(response) == [
        f"Delivered on {formats.date_format(yesterday)}, before the order was placed "
        f"({newer.payment.order.number})."
    ]
    assert_not_activated(older, newer)


def test_operations_skip_a_delivery_date_in_the_future_whoever_asks(captured):
    guarantee = captured()
    report = apply_to_guarantees(
        guarantee_ids=[guarantee.pk],
        operation=Operation.ACTIVATE,
        delivery_date=timezone.localdate() + timedelta(days=1),
    )
    assert report.queued == []
    assert "in the future" in report.skipped[0].reason
    assert_not_activated(guarantee)


# --- Debtor data that ops correct ---------------------------------------------------------


@pytest.mark.parametrize(
    "email", ["x" * 250 + "@example.com", "ap\x0b@muster.example", "not an address"]
)
def test_corrected_debtor_data_is_bounded_like_checkouts(admin_client, email):
    guarantee = GuaranteeFactory(state=State.NEW, failed_step="reserve")
    url = reverse("admin:infinitepay_guarantee_correct_debtor_data", args=[guarantee.pk])
    response = admin_client.post(url, {"confirm": "yes", "debtor_email": email, "legal_form": "ag"})
    assert response.status_code == 200
    assert response.context["form"].errors["debtor_email"]
    guarantee.refresh_from_db()
    assert guarantee.pending_step == "" and guarantee.failed_step == "reserve"
