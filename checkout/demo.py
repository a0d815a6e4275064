"""Demo data for the storefront: a German customer with a buyer, addresses and products.

Every function is idempotent: running the seed again changes nothing that exists.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify

from backoffice.demo import DEMO_PASSWORD

from .models import Buyer, Customer, CustomerAddress, Product

BUYER_USERNAME = "buyer"


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name_en: str
    name_de: str
    unit_price: str  # net, EUR
    vat_rate: str  # German standard (19 %) and reduced (7 %) rates


PRODUCTS = [
    DemoProduct(
        "PAP-A4-500", "Copy paper A4, 500 sheets", "Kopierpapier A4, 500 Blatt", "4.90", "0.19"
    ),
    DemoProduct("TON-26X-BK", "Toner cartridge, black", "Tonerkartusche, schwarz", "89.00", "0.19"),
    DemoProduct(
        "CHR-ERGO-01", "Ergonomic office chair", "Ergonomischer Bürostuhl", "249.00", "0.19"
    ),
    DemoProduct(
        "DSK-STAND-140", "Standing desk, 140 cm", "Stehschreibtisch, 140 cm", "489.00", "0.19"
    ),
    DemoProduct(
        "BK-DIN-OFFICE",
        "Handbook: DIN standards for the office",
        "Handbuch: DIN-Normen für das Büro",
        "39.90",
        "0.07",
    ),
    DemoProduct("COF-BEAN-1KG", "Coffee beans, 1 kg", "Kaffeebohnen, 1 kg", "18.50", "0.07"),
    DemoProduct(
        "TEA-ASSORT-100", "Tea assortment, 100 bags", "Teeauswahl, 100 Beutel", "12.40", "0.07"
    ),
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
            "organization": f"{customer.name}, Zentrallager",
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
    """The products with their names in English and German (an older seed's products get
    their German name; nothing else of an existing product changes)."""
    for demo in PRODUCTS:
        Product.objects.get_or_create(
            sku=demo.sku,
            defaults={
                "name_en": demo.name_en,
                "name_de": demo.name_de,
                "unit_price": Decimal(demo.unit_price),
                "vat_rate": Decimal(demo.vat_rate),
                "currency": "EUR",
            },
        )
        without_german = Q(name_de__isnull=True) | Q(name_de="")
        Product.objects.filter(without_german, sku=demo.sku).update(name_de=demo.name_de)


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
