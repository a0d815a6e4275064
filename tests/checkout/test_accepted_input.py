"""What the shop and its back office accept, they can store and send to the payment provider.

Every case goes through the page a person uses: the storefront with the test client, the
customer and product admin with `admin_client`.
"""

from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.urls import reverse

from checkout import selectors, services
from checkout.models import Cart, CartLine, Customer, Order, OrderLine, Payment, Product

from .factories import ProductFactory
from .test_checkout import infinitepay_chosen, reviewed, walk_to_payment

pytestmark = pytest.mark.django_db

# Control characters a paste can carry, and characters XML 1.0 has no place for at all.
NOT_XML = ["\x01", "\x08", "\x0b", "\x1b", "\x1f", "\ufffe", "\uffff"]


def said(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def an_email(length: int) -> str:
    """A well-formed address of exactly `length` characters (labels of at most 63)."""
    local = "a" * 64
    domain_length = length - len(local) - 1 - len(".example")
    labels = []
    while domain_length > 0:
        label = min(63, domain_length)
        labels.append("d" * label)
        domain_length -= label + 1
    email = f"{local}@{'.'.join(labels)}.example"
    assert len(email) == length
    return email


# --- The debtor e-mail at checkout ---------------------------------------------------------


def choose_infinitepay(client, infinitepay, email):
    return client.post(
        reverse("checkout:payment"), infinitepay_chosen(infinitepay, email=email, legal_form="gmbh")
    )


def test_a_debtor_email_longer_than_an_email_can_be_is_a_form_error(
    buyer_client, buyer, paper, infinitepay, rules
):
    walk_to_payment(buyer_client, buyer, paper)
    response = choose_infinitepay(buyer_client, infinitepay, an_email(262))
    assert response.status_code == 200
    assert response.context["form"].method_form.errors["debtor_email"] == [
        "Ensure this value has at most 254 characters (it has 262)."
    ]
    assert Cart.objects.get(buyer=buyer).payment_method == ""


def test_a_debtor_email_of_254_characters_is_kept(buyer_client, buyer, paper, infinitepay, rules):
    walk_to_payment(buyer_client, buyer, paper)
    response = choose_infinitepay(buyer_client, infinitepay, an_email(254))
    assert response.url == reverse("checkout:review")
    assert Cart.objects.get(buyer=buyer).method_data["debtor_email"] == an_email(254)


def test_a_debtor_email_with_a_control_character_is_a_form_error(
    buyer_client, buyer, paper, infinitepay, rules
):
    walk_to_payment(buyer_client, buyer, paper)
    # A quoted local part may hold control characters as far as e-mail goes; XML may not.
    response = choose_infinitepay(buyer_client, infinitepay, '"ap\x01"@muster.example')
    assert response.status_code == 200
    assert response.context["form"].method_form.errors["debtor_email"] == [
        "Remove the control character U+0001 (at position 4): it cannot be sent to the "
        "payment provider."
    ]
    assert Cart.objects.get(buyer=buyer).method_data == {}


def test_paying_a_declined_order_again_bounds_the_email_too(
    buyer_client, buyer, payment_term, infinitepay, ready_cart
):
    cart = ready_cart(payment_term)
    order = services.place_order(buyer=buyer, checkout_token=cart.checkout_token, buyer_ip=None)
    services.set_payment_status(payment=order.current_payment, status=Payment.Status.DECLINED)
    url = reverse("checkout:pay_again", args=[order.number])
    for email in [an_email(262), '"ap\x1b"@muster.example']:
        response = buyer_client.post(
            url, infinitepay_chosen(infinitepay, email=email, legal_form="ag")
        )
        assert response.status_code == 200
        assert response.context["form"].method_form.errors["debtor_email"]
    assert order.payments.count() == 1


# --- Text the back office enters: customers, their addresses, products -----------------------


def customer_form(**address) -> dict[str, str]:
    """The customer admin's add form, with one address inline."""
    fields = {
        "organization": "Muster Handels GmbH",
        "first_name": "Erika",
        "last_name": "Mustermann",
        "street": "Friedrichstraße 123",
        "postal_code": "10117",
        "city": "Berlin",
        "country": "DE",
        "region": "",
        **address,
    }
    return {
        "name": "Muster Handels GmbH",
        "vat_id": "DE814523673",
        "discount_percent": "0",
        "addresses-TOTAL_FORMS": "1",
        "addresses-INITIAL_FORMS": "0",
        "addresses-MIN_NUM_FORMS": "0",
        "addresses-MAX_NUM_FORMS": "1000",
        "addresses-0-is_billing": "on",
        "addresses-0-is_shipping": "on",
        **{f"addresses-0-{name}": value for name, value in fields.items()},
        "buyers-TOTAL_FORMS": "0",
        "buyers-INITIAL_FORMS": "0",
        "buyers-MIN_NUM_FORMS": "0",
        "buyers-MAX_NUM_FORMS": "1000",
    }


def address_errors(response) -> dict:
    formset = next(
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == "addresses"
    )
    return formset.forms[0].errors


CUSTOMER_ADD = reverse("admin:checkout_customer_add")


def test_a_customer_with_a_clean_address_is_saved(admin_client):
    response = admin_client.post(CUSTOMER_ADD, customer_form(street="Straße des 17. Juni 1 😀"))
    assert response.status_code == 302
    assert Customer.objects.get().addresses.get().street == "Straße des 17. Juni 1 😀"


@pytest.mark.parametrize(
    "field", ["organization", "first_name", "last_name", "street", "postal_code", "city"]
)
@pytest.mark.parametrize("character", NOT_XML)
def test_an_address_field_with_a_character_xml_cannot_carry_is_a_form_error(
    admin_client, field, character
):
    value = f"Ber{character}lin"
    response = admin_client.post(CUSTOMER_ADD, customer_form(**{field: value}))
    assert response.status_code == 200
    [error] = address_errors(response)[field]
    assert "it cannot be sent to the payment provider" in error
    assert not Customer.objects.exists()


def test_a_customer_name_with_a_control_character_is_a_form_error(admin_client):
    response = admin_client.post(CUSTOMER_ADD, {**customer_form(), "name": "Muster\x07 GmbH"})
    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors["name"]
    assert "cannot be sent to the payment provider" in error
    assert not Customer.objects.exists()


PRODUCT_ADD = reverse("admin:checkout_product_add")


def product_form(**overrides) -> dict[str, str]:
    return {
        "sku": "CHAIR-1",
        # The name per language (django-modeltranslation); English is required.
        "name_en": "Office chair",
        "name_de": "Bürostuhl",
        "unit_price": "199.00",
        "vat_rate": "0.19",
        "currency": "EUR",
        "is_active": "on",
        **overrides,
    }


def product_errors(response) -> dict:
    return response.context["adminform"].form.errors


@pytest.mark.parametrize("field", ["sku", "name_en", "name_de"])
@pytest.mark.parametrize("character", NOT_XML)
def test_a_product_name_or_sku_with_a_character_xml_cannot_carry_is_a_form_error(
    admin_client, field, character
):
    response = admin_client.post(PRODUCT_ADD, product_form(**{field: f"Chair{character}1"}))
    assert response.status_code == 200
    assert "cannot be sent to the payment provider" in product_errors(response)[field][0]
    assert not Product.objects.exists()


def test_a_currency_is_kept_in_capitals(admin_client):
    response = admin_client.post(PRODUCT_ADD, product_form(currency=" eur "))
    assert response.status_code == 302
    assert Product.objects.get().currency == "EUR"


@pytest.mark.parametrize("currency", ["XYZ", "EU", "E1R", "€", "XAU", "XXX"])
def test_a_currency_that_is_not_an_iso_4217_code_is_a_form_error(admin_client, currency):
    response = admin_client.post(PRODUCT_ADD, product_form(currency=currency))
    assert response.status_code == 200
    assert product_errors(response)["currency"] == [
        f"{currency.upper()!r} is not an ISO 4217 currency code: enter one such as EUR, CHF or USD."
    ]
    assert not Product.objects.exists()


# --- Cart quantities -------------------------------------------------------------------------


def test_a_cart_line_is_capped_however_often_it_is_added_to(buyer_client, buyer, paper):
    url = reverse("checkout:add_to_cart", args=[paper.pk])
    buyer_client.post(url, {"quantity": "9999"}, follow=True)
    for _ in range(2):
        response = buyer_client.post(url, {"quantity": "9999"}, follow=True)
        assert said(response) == [
            "Added 0 × Paper: your cart now holds 9,999, the most one line can hold."
        ]
    assert buyer.cart.lines.get().quantity == 9999


def test_an_add_past_the_cap_adds_up_to_it_and_says_so(buyer_client, buyer, paper):
    url = reverse("checkout:add_to_cart", args=[paper.pk])
    buyer_client.post(url, {"quantity": "9000"}, follow=True)
    response = buyer_client.post(url, {"quantity": "1500"}, follow=True)
    assert said(response) == [
        "Added 999 × Paper: your cart now holds 9,999, the most one line can hold."
    ]
    assert buyer.cart.lines.get().quantity == 9999


def test_a_quantity_above_the_cap_is_refused_in_the_cart(buyer_client, buyer, paper):
    buyer_client.post(
        reverse("checkout:add_to_cart", args=[paper.pk]), {"quantity": "5"}, follow=True
    )
    response = buyer_client.post(
        reverse("checkout:cart"), {"product": paper.pk, "quantity": "10000"}, follow=True
    )
    assert said(response) == ["Enter a quantity from 0 to 9999."]
    assert buyer.cart.lines.get().quantity == 5


def test_the_database_holds_the_cap_too(buyer, paper):
    services.add_to_cart(buyer=buyer, product=paper, quantity=1)
    with pytest.raises(IntegrityError):
        CartLine.objects.filter(cart__buyer=buyer).update(quantity=10_000)


# --- Order totals beyond the money columns -------------------------------------------------


@pytest.fixture
def too_large(buyer, payment_term, ready_cart):
    """A reviewed cart whose gross total needs 13 digits: 2 × 9,999,999,999.99 + VAT."""
    expensive = ProductFactory(name="Turbine", unit_price=Decimal("9999999999.99"))
    return ready_cart(payment_term, lines=[(expensive, 2)])


def test_an_order_too_large_for_the_money_columns_is_not_reviewed(buyer_client, too_large):
    response = buyer_client.get(reverse("checkout:review"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("checkout:cart")
    assert said(response) == [
        "This order is too large to be placed: no amount in an order can exceed "
        "9,999,999,999.99. Lower the quantities or split the order."
    ]


def test_an_order_too_large_for_the_money_columns_is_refused_before_anything_is_saved(
    buyer_client, buyer, too_large, admin_client
):
    lines = selectors.cart_lines(too_large)
    totals = selectors.cart_totals(buyer=buyer, lines=lines)
    response = buyer_client.post(
        reverse("checkout:place_order"),
        {
            "checkout_token": str(too_large.checkout_token),
            "fingerprint": selectors.checkout_fingerprint(
                cart=too_large, lines=lines, totals=totals
            ),
        },
        follow=True,
    )
    assert response.redirect_chain[0][0] == reverse("checkout:cart")
    assert "This order is too large to be placed" in said(response)[0]
    assert not (Order.objects.exists() or OrderLine.objects.exists() or Payment.objects.exists())
    assert buyer_client.get(reverse("checkout:order_list")).status_code == 200
    assert admin_client.get(reverse("admin:checkout_order_changelist")).status_code == 200


def test_a_large_order_that_fits_keeps_every_cent(buyer_client, buyer, payment_term, ready_cart):
    large = ProductFactory(name="Plant", unit_price=Decimal("4000000000.33"))
    ready_cart(payment_term, lines=[(large, 2)])
    response = buyer_client.post(reverse("checkout:place_order"), reviewed(buyer_client))
    order = Order.objects.get()
    assert response.url == reverse("checkout:order_placed", args=[order.number])
    # 8,000,000,000.66 net + 9.90 shipping + 19 % VAT on both (1,520,000,002.01).
    assert order.total == Decimal("9520000012.57")
    page = buyer_client.get(reverse("checkout:order_list")).content.decode()
    assert "€9,520,000,012.57" in page


# --- Ids past the integer range in a URL or a form ----------------------------------------------

HUGE_ID = "99999999999999999999"


def test_adding_a_product_id_past_the_integer_range_is_a_404(buyer_client):
    response = buyer_client.post(f"/cart/add/{HUGE_ID}/", {"quantity": "1"})
    assert response.status_code == 404


def test_a_cart_quantity_for_a_product_id_past_the_integer_range_is_refused(
    buyer_client, buyer, paper
):
    buyer_client.post(
        reverse("checkout:add_to_cart", args=[paper.pk]), {"quantity": "2"}, follow=True
    )
    response = buyer_client.post(
        reverse("checkout:cart"), {"product": HUGE_ID, "quantity": "1"}, follow=True
    )
    assert response.status_code == 200
    assert said(response) == ["Enter a quantity from 0 to 9999."]
    assert buyer.cart.lines.get().quantity == 2


def test_an_address_id_past_the_integer_range_is_a_form_error(buyer_client, paper):
    buyer_client.post(
        reverse("checkout:add_to_cart", args=[paper.pk]), {"quantity": "1"}, follow=True
    )
    response = buyer_client.post(reverse("checkout:billing"), {"address": HUGE_ID})
    assert response.status_code == 200
    assert response.context["form"].errors["address"] == ["Choose one of your company's addresses."]


@pytest.mark.parametrize("model", ["product", "customer", "order"])
def test_the_admin_finds_no_object_past_the_integer_range(admin_client, model):
    response = admin_client.get(f"/admin/checkout/{model}/{HUGE_ID}/change/")
    assert response.status_code == 302  # "… with ID … doesn't exist", back to the list
