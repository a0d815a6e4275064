"""The demo data the run command loads: a buyer who can shop and pay with InfinitePay."""

import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse

from backoffice.demo import DEMO_PASSWORD
from checkout import vat
from checkout.models import Buyer, Product
from sandbox import accounts

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_a_buyer_who_is_offered_infinitepay(client):
    call_command("seed_demo", stdout=None)
    call_command("seed_demo", stdout=None)  # idempotent

    buyer = Buyer.objects.get(user__username="buyer")
    assert buyer.customer.addresses.filter(is_billing=True, country="DE").exists()
    assert vat.normalize_vat_id(buyer.customer.vat_id).startswith("DE")
    products = Product.objects.all()
    assert 5 <= len(products) <= 8
    assert {p.vat_rate for p in products} == {Decimal("0.19"), Decimal("0.07")}
    assert {p.currency for p in products} == {"EUR"}

    # Logins are throttled by user name and address, so authenticating needs the request.
    login_request = RequestFactory().post(reverse("login"))
    assert client.login(request=login_request, username="buyer", password=DEMO_PASSWORD)
    address = buyer.customer.addresses.filter(is_billing=True).get()
    client.post(reverse("checkout:add_to_cart", args=[products[0].pk]), {"quantity": "1"})
    client.post(reverse("checkout:billing"), {"address": address.pk})
    client.post(reverse("checkout:shipping"), {"address": address.pk})
    client.post(reverse("checkout:shipping_method"), {"shipping_method": "flat_rate"})
    page = client.get(reverse("checkout:payment")).content.decode()
    offered = re.findall(r'name="method" value="([^"]+)"', page)
    assert offered[0].startswith("infinitepay_")
    assert any(m.startswith("payment_term_") for m in offered)


def test_seed_demo_gives_a_buyer_for_each_sandbox_persona():
    call_command("seed_demo", stdout=None)
    for persona in accounts.PERSONAS:
        buyer = Buyer.objects.get(customer__vat_id=persona.vat_id)
        assert buyer.customer.name == persona.company_name
        assert buyer.user.check_password(DEMO_PASSWORD)
        assert buyer.customer.addresses.filter(is_billing=True, country="DE").exists()


def test_seed_demo_gives_the_back_office_logins_in_their_roles(client):
    call_command("seed_demo", stdout=None)
    opens_users = {}
    for username in ["setup", "admin", "ops"]:
        login_request = RequestFactory().post(reverse("admin:login"))
        assert client.login(request=login_request, username=username, password=DEMO_PASSWORD)
        assert client.get(reverse("dashboard")).status_code == 200
        opens_users[username] = client.get(reverse("admin:auth_user_changelist")).status_code
        client.logout()
    assert opens_users == {"setup": 200, "admin": 403, "ops": 403}


def test_seed_demo_names_its_products_in_english_and_german(client):
    call_command("seed_demo", stdout=None)
    login_request = RequestFactory().post(reverse("login"))
    assert client.login(request=login_request, username="buyer", password=DEMO_PASSWORD)

    english = client.get(reverse("checkout:home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    german = client.get(reverse("checkout:home"), HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert "Copy paper A4, 500 sheets" in english and "€4.90" in english
    assert "Kopierpapier A4, 500 Blatt" in german and "4,90\N{NO-BREAK SPACE}€" in german
    assert "Copy paper" not in german
    assert all(product.name_de for product in Product.objects.all())


def test_seed_demo_gives_an_older_seeds_products_their_german_names():
    Product.objects.create(
        sku="PAP-A4-500", name="Copy paper A4, 500 sheets", unit_price="5.10", vat_rate="0.19"
    )
    call_command("seed_demo", stdout=None)
    paper = Product.objects.get(sku="PAP-A4-500")
    assert (paper.name_en, paper.name_de) == (
        "Copy paper A4, 500 sheets",
        "Kopierpapier A4, 500 Blatt",
    )
    assert paper.unit_price == Decimal("5.10")  # nothing else of it changes
