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


@pytest.mark.parametrize(
    "url",
    [reverse("admin:infinitepay_guarantee_changelist"), reverse("admin:checkout_order_changelist")],
)
def test_a_deep_page_lists_the_rows_of_its_place_in_the_order_with_the_same_queries(
    admin_client, infinitepay, url
):
    """Rows are picked by id first (LateRowPaginator): the last page shows the oldest rows,
    newest first, and costs what the first page costs."""
    add_guarantees(250, integration=infinitepay, buyer=BuyerFactory())
    first = queries_for(admin_client, url)
    response = admin_client.get(url, {"p": 3})
    changelist = response.context["cl"]
    model = changelist.model
    expected = list(model.objects.order_by("-created_at", "-id").values_list("pk", flat=True))
    shown = [row.pk for row in changelist.result_list]
    assert changelist.page_num == 3 and changelist.result_count == 250
    assert shown == expected[200:250]
    assert queries_for(admin_client, f"{url}?p=3") == first
