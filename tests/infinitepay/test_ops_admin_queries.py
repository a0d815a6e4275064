"""The guarantees and orders lists run the same queries for 10 rows or 200."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from checkout.models import Order, Payment
from infinitepay.models import ApiCall, Guarantee
from infinitepay.states import State, Step
from tests.checkout.factories import BuyerFactory, OrderFactory, PaymentFactory
from tests.infinitepay.factories import GuaranteeFactory

pytestmark = pytest.mark.django_db

STATES = [State.ACTIVATED, State.NEW, State.RESERVED, State.CAPTURED, State.DECLINED]


def add_guarantees(count: int, *, integration, buyer) -> None:
    """Write orders, their payments and guarantees in a few bulk inserts."""
    orders = Order.objects.bulk_create(
        OrderFactory.build(buyer=buyer, customer=buyer.customer) for _ in range(count)
    )
    payments = Payment.objects.bulk_create(
        PaymentFactory.build(order=order, integration=integration) for order in orders
    )
    for order, payment in zip(orders, payments, strict=True):
        order.current_payment = payment
    Order.objects.bulk_update(orders, ["current_payment"])
    guarantees = Guarantee.objects.bulk_create(
        GuaranteeFactory.build(
            payment=payment,
            integration=integration,
            state=STATES[i % len(STATES)],
            pending_step=Step.CAPTURE if i % 7 == 0 else "",
            failed_step=Step.RESERVE if STATES[i % len(STATES)] == State.NEW else "",
            last_error_message="Gave up after 6 attempts: HTTP 500" if i % 5 == 1 else "",
        )
        for i, payment in enumerate(payments)
    )
    ApiCall.objects.bulk_create(
        ApiCall(
            guarantee=g, operation="reserveOrder", step="reserve", attempt=1, outcome="approved"
        )
        for g in guarantees
    )


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [
        reverse("admin:infinitepay_guarantee_changelist"),
        reverse("admin:infinitepay_guarantee_changelist") + "?state__exact=failed",
        reverse("admin:checkout_order_changelist"),
        reverse("admin:infinitepay_apicall_changelist"),
    ],
)
def test_the_list_runs_the_same_queries_for_10_or_200_rows(admin_client, infinitepay, url):
    buyer = BuyerFactory()
    add_guarantees(10, integration=infinitepay, buyer=buyer)
    at_10 = queries_for(admin_client, url)
    add_guarantees(190, integration=infinitepay, buyer=buyer)
    assert Guarantee.objects.count() == 200
    assert queries_for(admin_client, url) == at_10
