"""VAT IDs and the EU rule, through the admin's customer form and through the checkout.

- A customer billed in the EU has a VAT ID, checked also when the customer and its address
  are created together in one admin form.
- InfinitePay is offered only to customers with a VAT ID; one without checks out with the
  other methods.
- VAT IDs of GB (and XI), CH and NO are checked by their own rules and accepted.
- A VAT ID of another country than the billing address is allowed.
- Greece is GR as a country and EL as a VAT prefix.
"""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from checkout import services, vat
from checkout.models import Customer, CustomerAddress
from payment_rules.services import MethodSpec, create_rule

from .factories import BuyerFactory, CustomerAddressFactory, CustomerFactory
from .test_checkout import offered_methods, walk_to_payment

pytestmark = pytest.mark.django_db

ADD_CUSTOMER = reverse("admin:checkout_customer_add")


# --- The VAT IDs themselves ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("DE814523673", "DE814523673"),
        ("de 814 523 673", "DE814523673"),
        ("ATU13585627", "ATU13585627"),
        ("EL094259216", "EL094259216"),
        ("GR094259216", "EL094259216"),  # Greece's ISO code typed as prefix: VIES wants EL
        ("GB 980 7806 84", "GB980780684"),
        ("XI 980 7806 84", "XI980780684"),  # Northern Ireland
        ("CHE-107.787.577 MWST", "CHE107787577MWST"),
        ("CHE-107.787.577", "CHE107787577"),  # the UID, as Swiss invoices often show it
        ("NO 995 525 828 MVA", "NO995525828MVA"),
        ("NO995525828", "NO995525828MVA"),
    ],
)
def test_valid_vat_ids_are_stored_compact(typed, stored):
    assert vat.normalize_vat_id(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "DE814523674",
        "814523673",
        "XX123",
        "",
        "DE",
        "GB980780685",  # wrong check digits
        "CHE-107.787.578",
        "CHE-107.787.578 MWST",
        "NO995525829",
        "US123456789",  # a country InfinitePay does not serve
    ],
)
def test_invalid_vat_ids_are_refused(typed):
    with pytest.raises(ValidationError):
        vat.normalize_vat_id(typed)


def test_greece_is_gr_as_a_country_and_the_uk_is_outside_the_eu():
    assert vat.is_in_eu("GR")
    assert not vat.is_in_eu("EL")
    assert not vat.is_in_eu("CH") and not vat.is_in_eu("GB") and not vat.is_in_eu("NO")


# --- The admin's customer form ------------------------------------------------------------


def customer_form(*, vat_id: str, addresses: list[dict[str, str]]) -> dict[str, str]:
    """The admin's add-customer form with its inline addresses (and no buyers)."""
    data = {
        "name": "Nordlicht Handel GmbH",
        "vat_id": vat_id,
        "discount_percent": "0",
        "addresses-TOTAL_FORMS": str(len(addresses)),
        "addresses-INITIAL_FORMS": "0",
        "buyers-TOTAL_FORMS": "0",
        "buyers-INITIAL_FORMS": "0",
    }
    for index, address in enumerate(addresses):
        fields = {
            "is_billing": "on",
            "is_shipping": "on",
            "organization": "Nordlicht Handel GmbH",
            "street": "Hafenstraße 1",
            "postal_code": "20457",
            "city": "Hamburg",
            "country": "DE",
            "region": "",
            **address,
        }
        data.update({f"addresses-{index}-{name}": value for name, value in fields.items()})
    return data


def form_errors(response) -> list[str]:
    """Every error the admin page shows, of the customer form and of its inlines."""
    errors = [message for error_list in response.context["errors"] for message in error_list]
    for formset in response.context["inline_admin_formsets"]:
        for form_errors in formset.formset.errors:
            errors += [m for messages in form_errors.values() for m in messages]
    return errors


def test_a_customer_created_with_an_eu_billing_address_needs_a_vat_id(admin_client):
    response = admin_client.post(ADD_CUSTOMER, customer_form(vat_id="", addresses=[{}]))

    assert response.status_code == 200
    assert "A billing address in the EU (Germany) needs the customer's VAT ID." in form_errors(
        response
    )
    assert not Customer.objects.exists() and not CustomerAddress.objects.exists()


def test_the_rule_speaks_the_admins_language(admin_client):
    response = admin_client.post(
        ADD_CUSTOMER, customer_form(vat_id="", addresses=[{}]), HTTP_ACCEPT_LANGUAGE="de"
    )
    assert (
        "Eine Rechnungsadresse in der EU (Deutschland) erfordert die USt-IdNr. des Kunden."
        in form_errors(response)
    )


def test_a_customer_created_with_a_vat_id_and_an_eu_billing_address_is_saved(admin_client):
    response = admin_client.post(
        ADD_CUSTOMER, customer_form(vat_id="de 814 523 673", addresses=[{}])
    )

    assert response.status_code == 302, form_errors(response)
    customer = Customer.objects.get()
    assert customer.vat_id == "DE814523673"
    assert customer.addresses.get().city == "Hamburg"


def test_an_eu_shipping_address_or_a_billing_address_outside_the_eu_needs_no_vat_id(
    admin_client,
):
    addresses = [
        {"is_billing": "", "country": "DE"},
        {"is_shipping": "", "country": "CH", "city": "Zürich", "postal_code": "8001"},
    ]
    response = admin_client.post(ADD_CUSTOMER, customer_form(vat_id="", addresses=addresses))

    assert response.status_code == 302, form_errors(response)
    assert Customer.objects.get().vat_id == ""


def test_an_existing_customer_billed_in_the_eu_cannot_drop_its_vat_id(admin_client):
    address = CustomerAddressFactory(country="DE")
    customer = address.customer
    url = reverse("admin:checkout_customer_change", args=[customer.pk])
    data = customer_form(vat_id="", addresses=[])
    data.update({"addresses-TOTAL_FORMS": "0", "name": customer.name})

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert any("needs the customer's VAT ID" in error for error in form_errors(response))
    customer.refresh_from_db()
    assert customer.vat_id == "DE814523673"


@pytest.mark.parametrize(
    ("typed", "stored", "country", "city"),
    [
        ("GB980780684", "GB980780684", "GB", "London"),
        ("XI980780684", "XI980780684", "GB", "Belfast"),
        ("CHE-107.787.577 MWST", "CHE107787577MWST", "CH", "Zürich"),
        ("NO 995 525 828 MVA", "NO995525828MVA", "NO", "Oslo"),
        ("GR094259216", "EL094259216", "GR", "Athina"),
    ],
)
def test_vat_ids_of_the_uk_switzerland_norway_and_greece_are_accepted(
    admin_client, typed, stored, country, city
):
    address = {"country": country, "city": city, "postal_code": "1000"}
    response = admin_client.post(ADD_CUSTOMER, customer_form(vat_id=typed, addresses=[address]))

    assert response.status_code == 302, form_errors(response)
    assert Customer.objects.get().vat_id == stored


def test_a_vat_id_with_wrong_check_digits_is_refused_in_the_form(admin_client):
    response = admin_client.post(
        ADD_CUSTOMER, customer_form(vat_id="CHE-107.787.578", addresses=[{"country": "CH"}])
    )

    assert response.status_code == 200
    assert any("Enter a valid VAT ID" in error for error in form_errors(response))
    assert not Customer.objects.exists()


def test_a_vat_id_of_another_country_than_the_billing_address_is_allowed(admin_client):
    """A company buys for its branch abroad: a German VAT ID, billed in Austria."""
    address = {"country": "AT", "city": "Wien", "postal_code": "1010"}
    response = admin_client.post(
        ADD_CUSTOMER, customer_form(vat_id="DE814523673", addresses=[address])
    )

    assert response.status_code == 302, form_errors(response)
    assert Customer.objects.get().addresses.get().country.code == "AT"


def test_a_region_must_lie_in_the_country_of_its_address(admin_client):
    response = admin_client.post(
        ADD_CUSTOMER,
        customer_form(vat_id="DE814523673", addresses=[{"country": "DE", "region": "AT-9"}]),
    )

    assert response.status_code == 200
    assert "Use a code of Germany: it starts with DE-." in form_errors(response)
    assert not Customer.objects.exists() and not CustomerAddress.objects.exists()


# --- The checkout -------------------------------------------------------------------------


@pytest.fixture
def everywhere(infinitepay, payment_term):
    """InfinitePay first and Payment Term after it, for buyers billed anywhere."""
    return create_rule(
        name="Everywhere",
        currency="EUR",
        sort_order=10,
        methods=[MethodSpec(integration=infinitepay), MethodSpec(integration=payment_term)],
    )


def buyer_of(*, vat_id: str, country: str, city: str) -> object:
    customer = CustomerFactory(vat_id=vat_id)
    CustomerAddressFactory(customer=customer, country=country, city=city, postal_code="1000")
    return BuyerFactory(customer=customer)


def test_a_company_billed_in_the_eu_without_a_vat_id_checks_out_with_the_other_methods(
    client, paper, everywhere, infinitepay, payment_term
):
    """A customer entered before the rule held: no InfinitePay, but Payment Term works."""
    buyer = buyer_of(vat_id="DE814523673", country="DE", city="Berlin")
    Customer.objects.filter(pk=buyer.customer.pk).update(vat_id="")
    buyer.customer.refresh_from_db()
    client.force_login(buyer.user)
    walk_to_payment(client, buyer, paper)

    response = client.get(reverse("checkout:payment"))
    assert offered_methods(response) == [payment_term.method_identifier]
    assert "offered only to companies with a VAT ID" in response.content.decode()

    chosen = client.post(reverse("checkout:payment"), {"method": payment_term.method_identifier})
    assert chosen.url == reverse("checkout:review")
    cart = services.get_cart(buyer=buyer)
    order = services.place_order(buyer=buyer, checkout_token=cart.checkout_token, buyer_ip=None)
    assert order.billing_address["country"] == "DE"


def test_infinitepay_is_offered_to_a_company_with_a_vat_id(
    client, paper, everywhere, infinitepay, payment_term
):
    buyer = buyer_of(vat_id="DE814523673", country="DE", city="Berlin")
    client.force_login(buyer.user)
    walk_to_payment(client, buyer, paper)

    response = client.get(reverse("checkout:payment"))
    assert offered_methods(response) == [
        infinitepay.method_identifier,
        payment_term.method_identifier,
    ]
    assert "offered only to companies with a VAT ID" not in response.content.decode()


@pytest.mark.parametrize(
    ("vat_id", "country", "city"),
    [
        ("GB980780684", "GB", "London"),
        ("XI980780684", "GB", "Belfast"),
        ("CHE107787577MWST", "CH", "Zürich"),
        ("NO995525828MVA", "NO", "Oslo"),
        ("EL094259216", "GR", "Athina"),
        ("DE814523673", "AT", "Wien"),  # a VAT ID of another country than the address
    ],
)
def test_companies_with_these_vat_ids_are_offered_infinitepay_at_checkout(
    client, paper, everywhere, infinitepay, payment_term, vat_id, country, city
):
    buyer = buyer_of(vat_id=vat_id, country=country, city=city)
    client.force_login(buyer.user)
    walk_to_payment(client, buyer, paper)

    assert infinitepay.method_identifier in offered_methods(client.get(reverse("checkout:payment")))
