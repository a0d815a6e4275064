"""A third provider plugs in without touching checkout, with buyer data of its own.

The type is registered for these tests only (`plug_in_type`), as an app's `ready()` would
register it; its integrations live in the base `Integration` table (a test cannot migrate a
model of its own). Checkout learns about it only through the registry: the payment step
shows its form, the review its data, and the placed order keeps that data as the payment's
`method_data`.
"""

import pytest
from django import forms
from django.urls import reverse

from checkout import services
from checkout.models import Order
from integrations.models import Integration
from integrations.registry import IntegrationType
from payment_rules.services import MethodSpec, create_rule

from .test_checkout import offered_methods, reviewed, walk_to_payment

pytestmark = pytest.mark.django_db


class PurchaseOrderForm(forms.Form):
    po_number = forms.CharField(label="Purchase order number", max_length=35)


class PurchaseOrderType(IntegrationType):
    """Pay against the buyer's purchase order: the invoice quotes its number."""

    key = "purchase_order"
    name = "Purchase order"
    model = Integration
    method_form_class = PurchaseOrderForm
    method_form_title = "Your purchase order"

    def __init__(self) -> None:
        self.started: list[dict] = []

    def is_applicable(self, integration, context) -> bool:
        return True

    def start(self, payment) -> None:
        self.started.append(payment.method_data)

    def describe_status(self, payment) -> str:
        return payment.get_status_display()


@pytest.fixture
def purchase_order_type(plug_in_type):
    return plug_in_type(PurchaseOrderType())


@pytest.fixture
def purchase_order(purchase_order_type, staff_user, rules):
    """An integration of the new type, offered first, before InfinitePay and Payment Term."""
    integration = Integration.objects.create(
        type=purchase_order_type.key,
        name="Purchase orders",
        label_en="Against your purchase order",
        short_label_en="Purchase order",
        default_owner=staff_user,
    )
    create_rule(
        name="Purchase orders",
        currency="EUR",
        sort_order=5,
        methods=[MethodSpec(integration=integration)],
    )
    return integration


def test_an_order_is_placed_with_a_plugged_in_method_and_its_own_data(
    buyer_client, buyer, paper, purchase_order, purchase_order_type
):
    walk_to_payment(buyer_client, buyer, paper)
    response = buyer_client.get(reverse("checkout:payment"))
    assert offered_methods(response)[0] == purchase_order.method_identifier
    page = response.content.decode()
    assert '<fieldset id="method-data-purchase_order"' in page
    assert "<legend>Your purchase order</legend>" in page
    assert 'name="purchase_order-po_number"' in page
    assert 'id="method-data-infinitepay"' in page  # the other types' forms stay as they were

    missing = buyer_client.post(
        reverse("checkout:payment"), {"method": purchase_order.method_identifier}
    )
    assert missing.status_code == 200
    assert missing.context["form"].method_form.errors == {"po_number": ["This field is required."]}
    assert services.get_cart(buyer=buyer).payment_method == ""

    chosen = buyer_client.post(
        reverse("checkout:payment"),
        {"method": purchase_order.method_identifier, "purchase_order-po_number": "PO-4711"},
    )
    assert chosen.url == reverse("checkout:review")
    review = buyer_client.get(reverse("checkout:review")).content.decode()
    assert "Against your purchase order" in review
    assert "Purchase order number: PO-4711" in review

    placed = buyer_client.post(reverse("checkout:place_order"), reviewed(buyer_client))
    order = Order.objects.get()
    assert placed.url == reverse("checkout:order_placed", args=[order.number])
    payment = order.current_payment
    assert (payment.method, payment.integration_id) == (
        purchase_order.method_identifier,
        purchase_order.pk,
    )
    assert payment.method_data == {"po_number": "PO-4711"}
    assert purchase_order_type.started == [{"po_number": "PO-4711"}]


def test_the_payment_step_shows_again_what_the_buyer_gave(
    buyer_client, buyer, paper, purchase_order
):
    walk_to_payment(buyer_client, buyer, paper)
    buyer_client.post(
        reverse("checkout:payment"),
        {"method": purchase_order.method_identifier, "purchase_order-po_number": "PO-4711"},
    )
    page = buyer_client.get(reverse("checkout:payment")).content.decode()
    assert 'value="PO-4711"' in page


def test_the_back_office_shows_the_plugged_in_methods_data(
    admin_client, buyer, purchase_order, ready_cart
):
    cart = ready_cart(purchase_order, po_number="PO-0815")
    order = services.place_order(buyer=buyer, checkout_token=cart.checkout_token, buyer_ip=None)
    page = admin_client.get(reverse("admin:checkout_order_change", args=[order.pk]))
    assert "<div>Purchase order number: PO-0815</div>" in page.content.decode()
