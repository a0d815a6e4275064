"""The orders and guarantees lists' search: each kind of term finds what ops mean by it."""

import pytest
from django.urls import reverse

from backoffice import list_search
from backoffice.list_search import as_vat_id
from checkout.models import Order
from tests.checkout.factories import BuyerFactory, CustomerFactory, OrderFactory, UserFactory
from tests.infinitepay.factories import GuaranteeFactory

pytestmark = pytest.mark.django_db

ORDERS = reverse("admin:checkout_order_changelist")
GUARANTEES = reverse("admin:infinitepay_guarantee_changelist")


def found(client, url: str, term: str) -> set[int]:
    response = client.get(url, {"q": term})
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


@pytest.fixture
def orders():
    """Two companies, one order each, and a third company's order."""
    muster = BuyerFactory(
        customer=CustomerFactory(name="Muster Maschinenbau GmbH", vat_id="DE136695976"),
        user=UserFactory(username="erika", email="Erika@Muster.example"),
    )
    acme = BuyerFactory(customer=CustomerFactory(name="Acme Werkzeuge KG", vat_id="DE814523673"))
    other = BuyerFactory(customer=CustomerFactory(name="Nordlicht AG", vat_id="DE129273398"))
    return {
        name: OrderFactory(buyer=buyer)
        for name, buyer in [("muster", muster), ("acme", acme), ("other", other)]
    }


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("maschinenbau", {"muster"}),  # part of a name, any case
        ("DE136695976", {"muster"}),
        ("de 136 695 976", {"muster"}),  # a VAT ID as it is read out
        ("erika", {"muster"}),  # the buyer's user name
        ("erika@muster.example", {"muster"}),  # the buyer's e-mail, any case
        ("GmbH", {"muster"}),
        ("Werkzeuge", {"acme"}),
        ("nothing like it", set()),
    ],
)
def test_the_orders_list_finds_a_company_a_vat_id_or_a_buyer(admin_client, orders, term, expected):
    assert found(admin_client, ORDERS, term) == {orders[name].pk for name in expected}


def test_an_order_number_is_found_in_any_case(admin_client, orders):
    number = orders["acme"].number
    assert found(admin_client, ORDERS, f" {number.lower()} ") == {orders["acme"].pk}


def test_the_guarantees_list_finds_a_ref_no_an_order_id_a_company_or_a_vat_id(admin_client, orders):
    guarantees = {
        name: GuaranteeFactory(payment__order=order, ref_no=f"10000{n}")
        for n, (name, order) in enumerate(orders.items())
    }

    assert found(admin_client, GUARANTEES, "100001") == {guarantees["acme"].pk}
    assert found(admin_client, GUARANTEES, guarantees["other"].order_id) == {guarantees["other"].pk}
    assert found(admin_client, GUARANTEES, "muster") == {guarantees["muster"].pk}
    assert found(admin_client, GUARANTEES, "DE814523673") == {guarantees["acme"].pk}


def test_a_word_many_companies_share_is_still_found(admin_client, orders, monkeypatch):
    monkeypatch.setattr(list_search, "MAX_IDS", 1)  # "e" is in two names: over the limit
    assert found(admin_client, ORDERS, "e") == {orders["muster"].pk, orders["acme"].pk}


@pytest.mark.parametrize(
    ("term", "vat_id"),
    [
        ("DE136695976", "DE136695976"),
        ("de 136.695.976", "DE136695976"),
        ("ATU12345678", "ATU12345678"),
        ("Muster GmbH", None),
        ("ORD-000042-P7", None),
        ("1000001", None),
        ("GmbH", None),
    ],
)
def test_what_a_vat_id_looks_like(term, vat_id):
    assert as_vat_id(term) == vat_id


@pytest.mark.parametrize("distinct", [False, True])
def test_a_page_picked_by_id_first_holds_the_rows_of_its_place_in_the_list(distinct):
    buyer = BuyerFactory()
    for _ in range(5):
        OrderFactory(buyer=buyer)
    listed = Order.objects.select_related("customer").order_by("-created_at", "-id")
    if distinct:
        listed = listed.distinct()
    page = list_search.LateRowPaginator(listed, 2).page(2)
    expected = list(Order.objects.order_by("-created_at", "-id").values_list("pk", flat=True))
    assert [order.pk for order in page.object_list] == expected[2:4]
    assert page.has_next() and page.has_previous()
