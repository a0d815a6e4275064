"""What the buyer sees while the guarantee runs, and paying again after a decline."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from checkout.models import Order, Payment
from sandbox.accounts import DENIED_AT_RESERVE
from tests.checkout.factories import BuyerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def declined_order(
    ready_cart, buyer, infinitepay, eager_tasks, sandbox, django_capture_on_commit_callbacks
):
    customer = buyer.customer
    customer.vat_id = DENIED_AT_RESERVE.vat_id
    customer.save()
    cart = ready_cart(infinitepay, debtor_email="ap@muster.example", legal_form="gmbh")
    with django_capture_on_commit_callbacks(execute=True):
        from checkout import services

        return services.place_order(buyer=buyer, checkout_token=cart.checkout_token, buyer_ip=None)


def status_of(client, order: Order) -> dict:
    response = client.get(reverse("checkout:order_status", args=[order.number]))
    assert response.status_code == 200
    return response.json()


def test_the_status_endpoint_follows_the_guarantee(
    buyer_client, ready_cart, buyer, infinitepay, eager_tasks, sandbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    infinitepay.auto_capture = infinitepay.auto_activation = True
    infinitepay.save()
    cart = ready_cart(infinitepay, debtor_email="ap@muster.example", legal_form="gmbh")
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        from checkout import services

        order = services.place_order(buyer=buyer, checkout_token=cart.checkout_token, buyer_ip=None)
    assert status_of(buyer_client, order) == {
        "code": "pending",
        "status": "Pending payment",
        "confirming": True,  # Reserve is queued: the page follows it
        "slow": False,
        "pay_again_url": None,
    }
    with django_capture_on_commit_callbacks(execute=True):
        for callback in enqueued:  # the worker gets to it
            callback()
    # Invoiced today on activation, due after the integration's Invoice Due Period.
    due = timezone.localdate() + timedelta(days=infinitepay.invoice_due_period)
    guaranteed = f"Guaranteed by InfinitePay · invoice due {due:%m/%d/%Y}"
    status = status_of(buyer_client, order)
    assert (status["status"], status["confirming"]) == (guaranteed, False)
    page = buyer_client.get(reverse("checkout:order_detail", args=[order.number])).content
    assert f'data-code="paid_in_full">{guaranteed}</span>'.encode() in page
    german = buyer_client.get(
        reverse("checkout:order_status", args=[order.number]), HTTP_ACCEPT_LANGUAGE="de"
    )
    assert german.json()["status"] == (
        f"Garantiert durch InfinitePay · Rechnung fällig am {due:%d.%m.%Y}"
    )


def test_another_companys_order_status_is_a_404(client, declined_order):
    stranger = BuyerFactory()
    client.force_login(stranger.user)
    response = client.get(reverse("checkout:order_status", args=[declined_order.number]))
    assert response.status_code == 404


def test_a_declined_buyer_reads_why_and_pays_with_another_method(
    buyer_client, declined_order, infinitepay, payment_term, django_capture_on_commit_callbacks
):
    status = status_of(buyer_client, declined_order)
    assert status["code"] == "declined"
    assert "InfinitePay could not guarantee this invoice" in status["status"]
    assert status["pay_again_url"] == reverse("checkout:pay_again", args=[declined_order.number])

    page = buyer_client.get(status["pay_again_url"]).content.decode()
    assert payment_term.method_identifier in page
    assert infinitepay.method_identifier not in page  # the declined method is not offered

    refused = buyer_client.post(status["pay_again_url"], {"method": infinitepay.method_identifier})
    assert refused.status_code == 200
    assert Payment.objects.filter(order=declined_order).count() == 1

    response = buyer_client.post(
        status["pay_again_url"], {"method": payment_term.method_identifier}
    )
    assert response.status_code == 302
    declined_order.refresh_from_db()
    assert declined_order.current_payment.method == payment_term.method_identifier
    assert Payment.objects.filter(order=declined_order).count() == 2
    assert status_of(buyer_client, declined_order)["pay_again_url"] is None

    # A second submit of the same form pays nothing more.
    buyer_client.post(status["pay_again_url"], {"method": payment_term.method_identifier})
    assert Payment.objects.filter(order=declined_order).count() == 2
