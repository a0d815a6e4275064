"""The checkout context: what payment rules and integration types may look at.

Checkout builds one from the cart and the buyer; the rule simulator builds one from a
form. Frozen values with `Decimal` money, so nothing downstream can change a checkout.
"""

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Address:
    country: str  # ISO 3166-1 alpha-2, e.g. "DE"
    region: str = ""  # ISO 3166-2 code, e.g. "DE-BY"; empty when unknown
    postal_code: str = ""
    city: str = ""
    street: str = ""
    organization: str = ""
    first_name: str = ""
    last_name: str = ""


@dataclass(frozen=True)
class LineItem:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal  # net, in the checkout's currency
    vat_rate: Decimal  # 0.19 for 19 %

    @property
    def net_total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Customer:
    name: str
    vat_id: str = ""
    id: int | None = None


@dataclass(frozen=True)
class Buyer:
    email: str
    id: int | None = None


@dataclass(frozen=True)
class CheckoutContext:
    currency: str  # ISO 4217; empty means no methods at all
    billing_address: Address | None = None
    shipping_address: Address | None = None
    subtotal: Decimal = Decimal("0")  # net sum of the lines
    total: Decimal = Decimal("0")  # gross, with shipping and VAT
    line_items: tuple[LineItem, ...] = field(default_factory=tuple)
    customer: Customer | None = None
    buyer: Buyer | None = None
