"""The shop as a buyer reads it: the language switcher, the only address chosen, the
confirmation after placing, the invoice's due date, a slow confirmation and a decline."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from checkout import services
from checkout.models import Payment
from sandbox.accounts import DENIED_AT_RESERVE

from .factories import CustomerAddressFactory

pytestmark = pytest.mark.django_db

NBSP = "\N{NO-BREAK SPACE}"


def place(buyer, cart):
    return services.place_order(buyer=buyer, checkout_token=cart.checkout_token, buyer_ip=None)


def test_every_shop_page_offers_the_language_switcher_and_it_switches(buyer_client, paper):
    page = buyer_client.get(reverse("checkout:home")).content.decode()
    assert f'action="{reverse("set_language")}"' in page
    assert '<option value="de" lang="de">Deutsch</option>' in page
    assert "<h1>Products</h1>" in page

    answer = buyer_client.post(reverse("set_language"), {"language": "de", "next": "/"})

    assert answer["Location"] == "/"
    page = buyer_client.get(reverse("checkout:home")).content.decode()
    assert '<html lang="de"' in page
    assert "<h1>Artikel</h1>" in page and "In den Warenkorb" in page
    assert f"4,90{NBSP}€" in page


def test_the_shop_is_styled_from_our_own_static_files(buyer_client):
    page = buyer_client.get(reverse("checkout:home")).content.decode()
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert stylesheets == [
        "/static/checkout/vendor/pico-2.1.1/pico.min.css",
        "/static/checkout/shop.css",
    ]
    assert "http" not in "".join(re.findall(r'(?:src|href)="([^"]+\.(?:css|js))"', page))


def test_the_only_billing_and_shipping_address_is_chosen_already(buyer_client, buyer, paper):
    buyer_client.post(reverse("checkout:add_to_cart", args=[paper.pk]), {"quantity": "1"})
    address = buyer.customer.addresses.get()
    checked = rf'<input type="radio" name="address" value="{address.pk}"[^>]* checked>'

    billing = buyer_client.get(reverse("checkout:billing")).content.decode()
    assert re.search(checked, billing)
    assert "Germany" in billing and ">DE<" not in billing

    buyer_client.post(reverse("checkout:billing"), {"address": address.pk})
    assert re.search(checked, buyer_client.get(reverse("checkout:shipping")).content.decode())


def test_with_two_addresses_the_buyer_chooses(buyer_client, buyer, paper):
    CustomerAddressFactory(customer=buyer.customer, street="Lagerweg 7", city="München")
    buyer_client.post(reverse("checkout:add_to_cart", args=[paper.pk]), {"quantity": "1"})
    billing = buyer_client.get(reverse("checkout:billing")).content.decode()
    assert len(re.findall(r'name="address"', billing)) == 2
    assert " checked>" not in billing


def test_the_only_payment_method_is_chosen_already_and_with_two_the_buyer_chooses(
    buyer_client, buyer, ready_cart, infinitepay, payment_term, eager_tasks, sandbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    radio = r'<input type="radio" name="method" value="{}"[^>]*>'
    cart = ready_cart(infinitepay, debtor_email="ap@muster.example", legal_form="gmbh")
    cart.payment_method = ""
    cart.save()
    payment = buyer_client.get(reverse("checkout:payment")).content.decode()
    assert " checked" not in re.search(radio.format(infinitepay.method_identifier), payment)[0]
    assert " checked" not in re.search(radio.format(payment_term.method_identifier), payment)[0]
    services.choose_payment_method(
        cart=cart,
        method=infinitepay.method_identifier,
        allowed=[infinitepay.method_identifier],
        method_data={"debtor_email": "ap@muster.example", "legal_form": "gmbh"},
    )

    # Declined at Reserve: Payment Term is all that is left, and it is chosen already.
    buyer.customer.vat_id = DENIED_AT_RESERVE.vat_id
    buyer.customer.save()
    with django_capture_on_commit_callbacks(execute=True):
        order = place(buyer, cart)
    pay_again = reverse("checkout:pay_again", args=[order.number])
    page = buyer_client.get(pay_again).content.decode()
    assert re.findall(r'name="method" value="([^"]+)"', page) == [payment_term.method_identifier]
    assert " checked" in re.search(radio.format(payment_term.method_identifier), page)[0]


def test_german_buyers_read_plain_german_when_an_address_is_missing_or_a_line_is_full(
    buyer_client, buyer, paper
):
    buyer.customer.addresses.all().delete()
    add = reverse("checkout:add_to_cart", args=[paper.pk])
    buyer_client.post(add, {"quantity": "9999"}, HTTP_ACCEPT_LANGUAGE="de", follow=True)

    capped = buyer_client.post(add, {"quantity": "1"}, HTTP_ACCEPT_LANGUAGE="de", follow=True)
    billing = buyer_client.get(reverse("checkout:billing"), HTTP_ACCEPT_LANGUAGE="de")

    assert [str(m) for m in capped.context["messages"]] == [
        "0 × Paper hinzugefügt: Ihr Warenkorb enthält jetzt 9.999, die Höchstmenge einer Position."
    ]
    assert (
        "Ihr Unternehmen hat keine Rechnungsadresse. Bitte wenden Sie sich an uns, damit wir eine "
        "anlegen." in billing.content.decode()
    )


def test_addresses_read_country_and_region_by_name_in_each_language(buyer_client, buyer, paper):
    buyer.customer.addresses.update(region="DE-BY", city="München")
    buyer_client.post(reverse("checkout:add_to_cart", args=[paper.pk]), {"quantity": "1"})
    english = buyer_client.get(reverse("checkout:billing")).content.decode()
    german = buyer_client.get(reverse("checkout:billing"), HTTP_ACCEPT_LANGUAGE="de").content
    assert "Germany (Bavaria)" in english
    assert "Deutschland (Bayern)" in german.decode()


def test_the_payment_page_marks_each_methods_data_for_the_script_that_shows_it(
    buyer_client, ready_cart, infinitepay, payment_term
):
    ready_cart(payment_term)
    page = buyer_client.get(reverse("checkout:payment")).content.decode()
    assert re.search(r'<fieldset id="method-data-infinitepay" class="method-data"', page)
    assert 'data-type-key="infinitepay"' in page
    assert '<script src="/static/checkout/payment-method.js" defer></script>' in page
    # Needed only for its own method: the browser must send the page for any other.
    assert re.search(r'<input type="email" name="infinitepay-debtor_email"', page)
    assert not re.search(r'name="infinitepay-[^"]+"[^>]*required', page)


def test_placing_leads_to_a_confirmation_with_the_number_and_the_due_date(
    buyer_client, buyer, ready_cart, infinitepay
):
    infinitepay.auto_capture = infinitepay.auto_activation = True
    infinitepay.invoice_due_period = 14
    infinitepay.save()
    cart = ready_cart(infinitepay, debtor_email="ap@muster.example", legal_form="gmbh")
    order = place(buyer, cart)
    due = timezone.localdate() + timedelta(days=14)

    url = reverse("checkout:order_placed", args=[order.number])
    english = buyer_client.get(url).content.decode()
    german = buyer_client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert f'<strong id="order-number">{order.number}</strong>' in english
    assert "What happens next" in english
    assert f"You receive an invoice; it is due on {due:%m/%d/%Y}." in english
    assert "We are confirming your payment now" in english
    assert "We ship your order to Berlin, Germany." in english
    assert f"Sie erhalten eine Rechnung; sie ist am {due:%d.%m.%Y} fällig." in german
    assert "Wir versenden Ihre Bestellung nach Berlin, Deutschland." in german


def test_with_activation_on_shipping_the_confirmation_gives_the_term_in_days(
    buyer_client, buyer, ready_cart, infinitepay
):
    cart = ready_cart(infinitepay, debtor_email="ap@muster.example", legal_form="gmbh")
    order = place(buyer, cart)
    page = buyer_client.get(reverse("checkout:order_placed", args=[order.number])).content
    assert b"You receive an invoice when your order ships; it is due 30 days later." in page


@pytest.mark.parametrize("status", [Payment.Status.DECLINED, Payment.Status.CANCELED])
def test_a_payment_declined_by_the_time_the_confirmation_shows_promises_no_invoice(
    buyer_client, buyer, ready_cart, infinitepay, status
):
    order = place(
        buyer, ready_cart(infinitepay, debtor_email="ap@muster.example", legal_form="gmbh")
    )
    Payment.objects.filter(order=order).update(status=status)
    for url in ["checkout:order_placed", "checkout:order_detail"]:
        page = buyer_client.get(reverse(url, args=[order.number])).content
        assert b"You receive an invoice" not in page
        assert b"invoice due" not in page


def test_payment_term_has_no_guarantee_and_no_due_date_to_tell(
    buyer_client, buyer, ready_cart, payment_term
):
    order = place(buyer, ready_cart(payment_term))
    page = buyer_client.get(reverse("checkout:order_placed", args=[order.number])).content
    assert b"You pay \xe2\x82\xac68.86 with Invoice (30 days net)." in page
    assert b'id="invoice-due"' not in page
    assert b"We are confirming your payment" not in page


def test_a_confirmation_that_takes_long_is_said_on_the_order_page(
    buyer_client, buyer, ready_cart, infinitepay
):
    cart = ready_cart(infinitepay, debtor_email="ap@muster.example", legal_form="gmbh")
    order = place(buyer, cart)  # Reserve is queued and no worker takes it here
    detail = reverse("checkout:order_detail", args=[order.number])
    status = reverse("checkout:order_status", args=[order.number])

    assert buyer_client.get(status).json()["slow"] is False
    assert re.search(r'<p id="payment-slow" hidden>', buyer_client.get(detail).content.decode())

    Payment.objects.filter(pk=order.current_payment_id).update(
        created_at=timezone.now() - timedelta(seconds=30)
    )
    assert buyer_client.get(status).json() | {"status": ""} == {
        "code": "pending",
        "status": "",
        "confirming": True,
        "slow": True,
        "pay_again_url": None,
    }
    page = buyer_client.get(detail).content.decode()
    assert '<p id="payment-slow" >' in page
    assert "takes a little longer than usual" in page
    # Without JavaScript the page reloads itself until the payment settles.
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page


def test_a_declined_order_says_why_and_offers_the_other_methods(
    buyer_client, buyer, ready_cart, infinitepay, payment_term, eager_tasks, sandbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    buyer.customer.vat_id = DENIED_AT_RESERVE.vat_id
    buyer.customer.save()
    payment_term.label_de = "Rechnung (30 Tage netto)"
    payment_term.save()
    cart = ready_cart(infinitepay, debtor_email="ap@muster.example", legal_form="gmbh")
    with django_capture_on_commit_callbacks(execute=True):
        order = place(buyer, cart)

    page = buyer_client.get(reverse("checkout:order_detail", args=[order.number])).content
    text = page.decode()
    assert "Payment declined" in text
    assert "You can pay this order another way: Invoice (30 days net)." in text
    assert "Pay this order with another method" in text
    assert 'id="invoice-terms"' not in text  # no invoice of a declined payment to pay
    german = buyer_client.get(
        reverse("checkout:order_detail", args=[order.number]), HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    assert "Sie können diese Bestellung anders bezahlen: Rechnung (30 Tage netto)." in german


def test_the_order_list_says_guaranteed_for_a_guaranteed_invoice(
    buyer_client, buyer, ready_cart, infinitepay
):
    order = place(buyer, ready_cart(infinitepay, debtor_email="a@b.example", legal_form="gmbh"))
    services.set_payment_status(payment=order.current_payment, status=Payment.Status.PAID_IN_FULL)
    page = buyer_client.get(reverse("checkout:order_list")).content.decode()
    assert '<td data-label="Payment status">Guaranteed by InfinitePay</td>' in page
    assert "Paid in full" not in page
