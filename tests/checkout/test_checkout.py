"""The checkout as a buyer uses it: plain forms, redirects, and the methods the rules allow."""

import re
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from checkout import selectors, services
from checkout.models import Order, Payment
from payment_rules.selectors import applicable_methods

from .factories import BuyerFactory, CustomerAddressFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def offered_methods(response) -> list[str]:
    return re.findall(r'name="method" value="([^"]+)"', response.content.decode())


def walk_to_payment(client, buyer, product) -> None:
    address = buyer.customer.addresses.get()
    client.post(reverse("checkout:add_to_cart", args=[product.pk]), {"quantity": "2"})
    assert client.post(reverse("checkout:billing"), {"address": address.pk}).status_code == 302
    assert client.post(reverse("checkout:shipping"), {"address": address.pk}).status_code == 302
    response = client.post(reverse("checkout:shipping_method"), {"shipping_method": "flat_rate"})
    assert response.url == reverse("checkout:payment")


def reviewed(client) -> dict[str, str]:
    """The review page's "Place order" form: the checkout token and what was reviewed."""
    page = client.get(reverse("checkout:review")).content.decode()
    return dict(
        re.findall(r'type="hidden" name="(checkout_token|fingerprint)" value="([^"]+)"', page)
    )


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("checkout:home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_staff_user_without_a_company_cannot_shop(client, staff_user):
    client.force_login(staff_user)
    response = client.get(reverse("checkout:cart"))
    assert response.status_code == 403
    assert b"does not buy for a company" in response.content


def test_the_cart_is_kept_in_the_database_with_its_totals(buyer_client, buyer, paper, coffee):
    buyer_client.post(reverse("checkout:add_to_cart", args=[paper.pk]), {"quantity": "2"})
    buyer_client.post(reverse("checkout:add_to_cart", args=[paper.pk]), {"quantity": "1"})
    buyer_client.post(reverse("checkout:add_to_cart", args=[coffee.pk]), {"quantity": "2"})
    assert dict(buyer.cart.lines.values_list("product__sku", "quantity")) == {
        "PAPER": 3,
        "COFFEE": 2,
    }
    page = buyer_client.get(reverse("checkout:cart")).content.decode()
    assert "€68.86" in page  # see test_pricing for the sum

    buyer_client.post(reverse("checkout:cart"), {"product": paper.pk, "quantity": "0"})
    assert list(buyer.cart.lines.values_list("product__sku", flat=True)) == ["COFFEE"]


def test_a_cart_holds_one_currency(buyer_client, buyer, paper):
    from .factories import ProductFactory

    francs = ProductFactory(currency="CHF")
    buyer_client.post(reverse("checkout:add_to_cart", args=[paper.pk]), {"quantity": "1"})
    response = buyer_client.post(
        reverse("checkout:add_to_cart", args=[francs.pk]), {"quantity": "1"}, follow=True
    )
    assert b"a cart holds one currency" in response.content
    assert buyer.cart.lines.count() == 1


def test_steps_cannot_be_skipped(buyer_client, paper):
    assert buyer_client.get(reverse("checkout:review")).url == reverse("checkout:cart")
    buyer_client.post(reverse("checkout:add_to_cart", args=[paper.pk]), {"quantity": "1"})
    assert buyer_client.get(reverse("checkout:review")).url == reverse("checkout:billing")
    assert buyer_client.get(reverse("checkout:payment")).url == reverse("checkout:billing")


def test_another_companys_address_cannot_be_chosen(buyer_client, buyer, paper):
    foreign = CustomerAddressFactory()
    buyer_client.post(reverse("checkout:add_to_cart", args=[paper.pk]), {"quantity": "1"})
    response = buyer_client.post(reverse("checkout:billing"), {"address": foreign.pk})
    assert response.status_code == 200
    assert b"Choose one of your company" in response.content
    assert services.get_cart(buyer=buyer).billing_address is None


def test_payment_offers_exactly_what_the_rules_return(buyer_client, buyer, paper, rules):
    walk_to_payment(buyer_client, buyer, paper)
    cart = services.get_cart(buyer=buyer)
    lines = selectors.cart_lines(cart)
    context = selectors.checkout_context(
        buyer=buyer, cart=cart, lines=lines, totals=selectors.cart_totals(buyer=buyer, lines=lines)
    )
    expected = [m.identifier for m in applicable_methods(context=context)]

    response = buyer_client.get(reverse("checkout:payment"))
    assert offered_methods(response) == expected
    assert len(expected) == 2 and expected[0].startswith("infinitepay_")


def test_a_buyer_billed_outside_the_rules_destinations_gets_only_the_fallback(
    client, paper, rules, payment_term
):
    customer = CustomerFactory(vat_id="ATU13585627")
    CustomerAddressFactory(customer=customer, country="AT", city="Wien", postal_code="1010")
    buyer = BuyerFactory(customer=customer)
    client.force_login(buyer.user)
    walk_to_payment(client, buyer, paper)
    assert offered_methods(client.get(reverse("checkout:payment"))) == [
        payment_term.method_identifier
    ]


def test_without_a_vat_id_infinitepay_is_not_offered(client, paper, rules, payment_term):
    customer = CustomerFactory(vat_id="")
    CustomerAddressFactory(customer=customer, country="CH", city="Zürich", postal_code="8001")
    buyer = BuyerFactory(customer=customer)
    client.force_login(buyer.user)
    walk_to_payment(client, buyer, paper)
    assert offered_methods(client.get(reverse("checkout:payment"))) == [
        payment_term.method_identifier
    ]


def test_no_rule_no_method(buyer_client, buyer, paper):
    walk_to_payment(buyer_client, buyer, paper)
    response = buyer_client.get(reverse("checkout:payment"))
    assert offered_methods(response) == []
    assert b"No payment method is available" in response.content


def infinitepay_chosen(infinitepay, *, email: str, legal_form: str) -> dict[str, str]:
    """The payment step's form choosing InfinitePay, with the Debtor Data its type asks for."""
    return {
        "method": infinitepay.method_identifier,
        "infinitepay-debtor_email": email,
        "infinitepay-legal_form": legal_form,
    }


def test_infinitepay_asks_for_debtor_data_prefilled_with_the_buyers_email(
    buyer_client, buyer, paper, infinitepay, rules
):
    walk_to_payment(buyer_client, buyer, paper)
    page = buyer_client.get(reverse("checkout:payment")).content.decode()
    assert 'id="method-data-infinitepay"' in page and "<legend>Debtor Data</legend>" in page
    assert 'value="erika@muster.example"' in page
    assert 'value="gmbh_co_kg"' in page
    # AG is chosen until the buyer picks another (as in Oro); there is no empty choice.
    assert '<option value="ag" selected>' in page
    assert '<option value="" ' not in page

    response = buyer_client.post(
        reverse("checkout:payment"), infinitepay_chosen(infinitepay, email="", legal_form="")
    )
    assert response.status_code == 200
    form = response.context["form"].method_form
    assert form.errors == {
        "debtor_email": ["This field is required."],
        "legal_form": ["This field is required."],
    }
    assert response.content.decode().count("This field is required.") == 2
    assert services.get_cart(buyer=buyer).payment_method == ""


def test_a_legal_form_infinitepay_does_not_know_is_refused(
    buyer_client, buyer, paper, infinitepay, rules
):
    walk_to_payment(buyer_client, buyer, paper)
    response = buyer_client.post(
        reverse("checkout:payment"),
        infinitepay_chosen(infinitepay, email="ap@muster.example", legal_form="plc"),
    )
    assert response.status_code == 200
    assert response.context["form"].method_form.errors["legal_form"]
    assert services.get_cart(buyer=buyer).method_data == {}


def test_a_method_without_data_ignores_what_another_methods_form_holds(
    buyer_client, buyer, paper, payment_term, rules
):
    walk_to_payment(buyer_client, buyer, paper)
    response = buyer_client.post(
        reverse("checkout:payment"),
        {
            "method": payment_term.method_identifier,
            "infinitepay-debtor_email": "not an address",
            "infinitepay-legal_form": "",
        },
    )
    assert response.url == reverse("checkout:review")
    cart = services.get_cart(buyer=buyer)
    assert (cart.payment_method, cart.method_data) == (payment_term.method_identifier, {})


def test_a_method_the_rules_do_not_offer_is_refused(client, paper, rules, infinitepay):
    customer = CustomerFactory(vat_id="ATU13585627")
    CustomerAddressFactory(customer=customer, country="AT", city="Wien", postal_code="1010")
    buyer = BuyerFactory(customer=customer)
    client.force_login(buyer.user)
    walk_to_payment(client, buyer, paper)
    response = client.post(
        reverse("checkout:payment"),
        infinitepay_chosen(infinitepay, email="a@b.example", legal_form="ag"),
    )
    assert response.status_code == 200
    assert b"Choose one of the payment methods offered." in response.content


def test_checkout_with_payment_term(buyer_client, buyer, paper, payment_term, rules):
    walk_to_payment(buyer_client, buyer, paper)
    response = buyer_client.post(
        reverse("checkout:payment"), {"method": payment_term.method_identifier}
    )
    assert response.url == reverse("checkout:review")
    review = buyer_client.get(reverse("checkout:review")).content.decode()
    assert "Invoice (30 days net)" in review and "Place order" in review

    response = buyer_client.post(reverse("checkout:place_order"), reviewed(buyer_client))
    order = Order.objects.get()
    assert response.url == reverse("checkout:order_placed", args=[order.number])
    assert order.number == f"ORD-{order.pk:06d}"
    assert (order.customer, order.buyer, order.currency) == (buyer.customer, buyer, "EUR")
    assert order.total == Decimal("23.44")  # 9.80 + 9.90 shipping + 3.74 VAT (19 % of 19.70)
    assert order.buyer_ip == "127.0.0.1"
    payment = order.current_payment
    assert (payment.method, payment.amount, payment.status) == (
        payment_term.method_identifier,
        Decimal("23.44"),
        Payment.Status.PENDING,
    )
    assert payment.method_data == {}
    confirmation = buyer_client.get(response.url).content.decode()
    assert f'<strong id="order-number">{order.number}</strong>' in confirmation
    assert "What happens next" in confirmation
    page = buyer_client.get(reverse("checkout:order_detail", args=[order.number])).content.decode()
    assert 'data-code="pending">Pending payment</span>' in page
    assert buyer.cart.lines.count() == 0


def test_checkout_with_infinitepay_keeps_the_debtor_data_and_starts_the_payment(
    buyer_client, buyer, paper, infinitepay, rules, django_capture_on_commit_callbacks
):
    walk_to_payment(buyer_client, buyer, paper)
    buyer_client.post(
        reverse("checkout:payment"),
        infinitepay_chosen(infinitepay, email="accounts@muster.example", legal_form="gmbh"),
    )
    review = buyer_client.get(reverse("checkout:review")).content.decode()
    assert "E-mail: accounts@muster.example<br>Legal form: GmbH" in review

    with django_capture_on_commit_callbacks() as enqueued:
        buyer_client.post(reverse("checkout:place_order"), reviewed(buyer_client))
    payment = Payment.objects.get()
    assert payment.method == infinitepay.method_identifier
    assert payment.integration_id == infinitepay.pk
    assert payment.method_data == {"debtor_email": "accounts@muster.example", "legal_form": "gmbh"}
    assert services.get_cart(buyer=buyer).method_data == {}  # the next checkout starts afresh
    assert payment.order.current_payment == payment
    # InfinitePay's start: a guarantee waiting for Reserve, enqueued once the order commits.
    assert payment.guarantee.state == "new"
    assert payment.guarantee.pending_step == "reserve"
    assert payment.guarantee.order_id.startswith(payment.order.number)
    assert len(enqueued) == 1


def test_a_double_click_or_a_refresh_places_one_order(
    buyer_client, buyer, paper, payment_term, rules
):
    walk_to_payment(buyer_client, buyer, paper)
    buyer_client.post(reverse("checkout:payment"), {"method": payment_term.method_identifier})
    form = reviewed(buyer_client)

    first = buyer_client.post(reverse("checkout:place_order"), form)
    second = buyer_client.post(reverse("checkout:place_order"), form)
    assert Order.objects.count() == 1
    assert (
        first.url
        == second.url
        == reverse("checkout:order_placed", args=[Order.objects.get().number])
    )
    assert services.get_cart(buyer=buyer).checkout_token != uuid.UUID(form["checkout_token"])


def test_an_outdated_form_places_nothing(buyer_client, buyer, paper, payment_term, rules):
    walk_to_payment(buyer_client, buyer, paper)
    buyer_client.post(reverse("checkout:payment"), {"method": payment_term.method_identifier})
    form = {**reviewed(buyer_client), "checkout_token": str(uuid.uuid4())}
    response = buyer_client.post(reverse("checkout:place_order"), form)
    assert response.url == reverse("checkout:review")
    assert not Order.objects.exists()


def test_another_buyers_token_does_not_reveal_their_order(
    client, buyer_client, buyer, paper, rules
):
    walk_to_payment(buyer_client, buyer, paper)
    buyer_client.post(
        reverse("checkout:payment"),
        {"method": rules[1].methods.get().integration.method_identifier},
    )
    form = reviewed(buyer_client)
    buyer_client.post(reverse("checkout:place_order"), form)

    stranger = BuyerFactory(user=UserFactory())
    client.force_login(stranger.user)
    response = client.post(reverse("checkout:place_order"), form)
    assert response.status_code == 302
    assert "ORD-" not in response.url
