"""VAT IDs (python-stdnum) and the EU rule: an EU billing address needs the company's VAT ID."""

import pytest
from django.core.exceptions import ValidationError

from checkout import vat

from .factories import CustomerAddressFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("DE814523673", "DE814523673"),
        ("de 814 523 673", "DE814523673"),
        ("ATU13585627", "ATU13585627"),
        ("EL094259216", "EL094259216"),
        ("GR094259216", "EL094259216"),  # Greece's ISO code typed as prefix: VIES wants EL
    ],
)
def test_valid_vat_ids_are_stored_compact(typed, stored):
    assert vat.normalize_vat_id(typed) == stored


@pytest.mark.parametrize("typed", ["DE814523674", "814523673", "XX123", "", "DE"])
def test_invalid_vat_ids_are_refused(typed):
    with pytest.raises(ValidationError):
        vat.normalize_vat_id(typed)


def test_greece_is_gr_as_a_country_and_el_as_a_vat_prefix():
    assert vat.is_in_eu("GR")
    assert not vat.is_in_eu("EL")
    assert vat.vat_id_country("EL094259216") == "GR"
    assert vat.vat_prefix("GR") == "EL"
    assert not vat.is_in_eu("CH") and not vat.is_in_eu("GB")


def test_customer_clean_validates_and_compacts_the_vat_id():
    customer = CustomerFactory.build(vat_id="de 814 523 673")
    customer.full_clean()
    assert customer.vat_id == "DE814523673"
    customer.vat_id = "DE814523674"
    with pytest.raises(ValidationError) as error:
        customer.full_clean()
    assert "vat_id" in error.value.message_dict


def test_an_eu_billing_address_needs_a_vat_id():
    customer = CustomerFactory(vat_id="")
    address = CustomerAddressFactory.build(customer=customer, country="DE")
    with pytest.raises(ValidationError) as error:
        address.full_clean()
    assert "needs the customer's VAT ID" in str(error.value.message_dict["country"])


def test_outside_the_eu_or_shipping_only_no_vat_id_is_needed():
    customer = CustomerFactory(vat_id="")
    CustomerAddressFactory.build(customer=customer, country="CH").full_clean()
    CustomerAddressFactory.build(customer=customer, country="DE", is_billing=False).full_clean()


def test_a_greek_billing_address_takes_an_el_vat_id():
    customer = CustomerFactory(vat_id="EL094259216")
    CustomerAddressFactory.build(customer=customer, country="GR", city="Athina").full_clean()


def test_the_vat_id_must_come_from_the_billing_country():
    customer = CustomerFactory(vat_id="DE814523673")
    address = CustomerAddressFactory.build(customer=customer, country="FR")
    with pytest.raises(ValidationError, match="VAT ID from that country"):
        address.full_clean()


def test_a_customer_billed_in_the_eu_cannot_drop_its_vat_id():
    address = CustomerAddressFactory(country="DE")
    customer = address.customer
    customer.vat_id = ""
    with pytest.raises(ValidationError) as error:
        customer.full_clean()
    assert "vat_id" in error.value.message_dict


def test_a_region_must_lie_in_the_country():
    address = CustomerAddressFactory.build(customer=CustomerFactory(), region="AT-9")
    with pytest.raises(ValidationError) as error:
        address.full_clean()
    assert "region" in error.value.message_dict
