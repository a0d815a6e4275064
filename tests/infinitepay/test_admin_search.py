"""Searching the orders and guarantees lists by order number, as ops paste it."""

import pytest
from django.urls import reverse

from infinitepay.models import ApiCall
from tests.infinitepay.factories import GuaranteeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def guarantees():
    return [GuaranteeFactory(), GuaranteeFactory(), GuaranteeFactory()]


def listed(admin_client, url_name: str, term: str) -> list:
    response = admin_client.get(reverse(url_name), {"q": term})
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


@pytest.mark.parametrize("typed", [str.upper, str.lower, lambda n: f"  {n} "])
def test_an_order_number_finds_exactly_its_order(admin_client, guarantees, typed):
    wanted = guarantees[1].payment.order
    orders = listed(admin_client, "admin:checkout_order_changelist", typed(wanted.number))
    assert orders == [wanted]
    found = listed(admin_client, "admin:infinitepay_guarantee_changelist", typed(wanted.number))
    assert found == [guarantees[1]]


def test_other_terms_still_search_the_usual_fields(admin_client, guarantees):
    customer = guarantees[2].payment.order.customer
    orders = listed(admin_client, "admin:checkout_order_changelist", customer.name[:8])
    assert guarantees[2].payment.order in orders
    found = listed(admin_client, "admin:infinitepay_guarantee_changelist", guarantees[0].order_id)
    assert found == [guarantees[0]]


def test_an_order_number_finds_the_calls_made_for_its_order(admin_client, guarantees):
    calls = [
        ApiCall.objects.create(
            guarantee=guarantee,
            operation="reserveOrder",
            step="reserve",
            attempt=1,
            outcome="approved",
        )
        for guarantee in guarantees
    ]
    number = guarantees[1].payment.order.number
    calls_list = "admin:infinitepay_apicall_changelist"
    assert listed(admin_client, calls_list, f" {number.lower()} ") == [calls[1]]
    assert listed(admin_client, calls_list, guarantees[2].order_id) == [calls[2]]
