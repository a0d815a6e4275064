"""Demo data for the storefront: a German customer with a buyer, addresses and products.

Every function is idempotent: running the seed again changes nothing that exists.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from backoffice.demo import DEMO_PASSWORD

from .models import Buyer, Customer, CustomerAddress, Product

BUYER_USERNAME = "buyer"

# (SKU, name, net unit price in EUR, VAT rate): German standard (19 %) and reduced (7 %) rates.
PRODUCTS = [
    ("PAP-A4-500", "Copy paper A4, 500 sheets", "4.90", "0.19"),
    ("TON-26X-BK", "Toner cartridge, black", "89.00", "0.19"),
    ("CHR-ERGO-01", "Ergonomic office chair", "249.00", "0.19"),
    ("DSK-STAND-140", "Standing desk, 140 cm", "489.00", "0.19"),
    ("BK-DIN-OFFICE", "Handbook: DIN standards for the office", "39.90", "0.07"),
    ("COF-BEAN-1KG", "Coffee beans, 1 kg", "18.50", "0.07"),
    ("TEA-ASSORT-100", "Tea assortment, 100 bags", "12.40", "0.07"),
]


@dataclass(frozen=True)
class DemoCompany:
    name: str
    vat_id: str
    street: str
    postal_code: str
    city: str
    country: str = "DE"
    region: str = ""
    first_name: str = ""
    last_name: str = ""


DEMO_COMPANY = DemoCompany(
    name="Muster Maschinenbau GmbH",
    vat_id="DE814523673",
    street="Friedrichstraße 123",
    postal_code="10117",
    city="Berlin",
    region="DE-BE",
    first_name="Erika",
    last_name="Mustermann",
)


@transaction.atomic
def seed_storefront() -> Buyer:
    """Create the demo products, customer and buyer; return the buyer."""
    seed_products()
    customer = seed_customer(DEMO_COMPANY)
    CustomerAddress.objects.get_or_create(
        customer=customer,
        street="Lagerweg 7",
        defaults={
            "is_billing": False,
            "is_shipping": True,
            "organization": f"{customer.name}, warehouse",
            "postal_code": "80331",
            "city": "München",
            "country": "DE",
            "region": "DE-BY",
        },
    )
    return seed_buyer(
        customer=customer, username=BUYER_USERNAME, email="buyer@example.com", first="Erika"
    )


def seed_products() -> None:
    for sku, name, price, rate in PRODUCTS:
        Product.objects.get_or_create(
            sku=sku,
            defaults={
                "name": name,
                "unit_price": Decimal(price),
                "vat_rate": Decimal(rate),
                "currency": "EUR",
            },
        )


def seed_customer(company: DemoCompany) -> Customer:
    """A customer company with one address for billing and shipping."""
    customer = Customer.objects.filter(name=company.name).first()
    if customer is not None:
        return customer
    customer = Customer(name=company.name, vat_id=company.vat_id)
    customer.full_clean()
    customer.save()
    address = CustomerAddress(
        customer=customer,
        organization=company.name,
        first_name=company.first_name,
        last_name=company.last_name,
        street=company.street,
        postal_code=company.postal_code,
        city=company.city,
        country=company.country,
        region=company.region,
    )
    address.full_clean()
    address.save()
    return customer


def seed_buyer(*, customer: Customer, username: str, email: str, first: str = "") -> Buyer:
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username, defaults={"email": email, "first_name": first}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    buyer, _ = Buyer.objects.get_or_create(user=user, defaults={"customer": customer})
    return buyer


def seed_persona_buyers(*, personas: Iterable[tuple[str, str]]) -> list[Buyer]:
    """Customers that play the sandbox's test personas, given as (company name, VAT ID).

    The caller reads them from the sandbox (checkout never imports a provider). Each company
    gets an address in Berlin and a buyer named after it (`buyer-<company>`), with the demo
    buyer's password, so that a denial can be tried from the storefront.
    """
    buyers = []
    for name, vat_id in personas:
        customer = seed_customer(
            DemoCompany(
                name=name,
                vat_id=vat_id,
                street="Teststraße 1",
                postal_code="10115",
                city="Berlin",
                region="DE-BE",
            )
        )
        username = f"buyer-{slugify(name)}"
        buyers.append(
            seed_buyer(customer=customer, username=username, email=f"{username}@example.com")
        )
    return buyers
