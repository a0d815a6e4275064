"""Order totals: net, discount, shipping, VAT per rate and gross, all in `Decimal`.

How we round (the choice an invoice must state once and keep):
- every amount is rounded to cents, half up;
- a line's net is its unit net price times quantity (exact: prices have two places);
- VAT is computed once per rate, on the net sum of that rate's lines less their share of
  the customer discount (plus the shipping, which is taxed at the highest rate in the
  cart), never by adding up rounded line VATs. The per-line VAT and gross stored on order
  lines are for display and for the provider's article list; the invoice totals are the
  per-rate ones, so they may differ from the sum of the lines by a cent.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_percent(rate: Decimal) -> str:
    """0.1900 → "19", 0.055 → "5.5"."""
    return f"{(rate * 100).normalize():f}"


@dataclass(frozen=True)
class PricedLine:
    sku: str
    name: str
    quantity: int
    unit_net: Decimal
    vat_rate: Decimal  # 0.19 for 19 %

    @property
    def net(self) -> Decimal:
        return to_cents(self.unit_net * self.quantity)

    @property
    def vat_percent(self) -> str:
        return format_percent(self.vat_rate)

    @property
    def vat(self) -> Decimal:
        return to_cents(self.net * self.vat_rate)

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


@dataclass(frozen=True)
class VatAmount:
    """One line of the VAT breakdown: the taxable net at a rate and its VAT."""

    rate: Decimal
    taxable: Decimal
    vat: Decimal

    @property
    def percent(self) -> str:
        return format_percent(self.rate)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal  # net sum of the lines
    discount: Decimal  # net
    discount_gross: Decimal
    shipping: Decimal  # net
    shipping_gross: Decimal
    shipping_vat_rate: Decimal
    vat: tuple[VatAmount, ...]  # ascending by rate
    vat_total: Decimal
    total: Decimal  # gross: subtotal - discount + shipping + VAT


def compute_totals(
    lines: Iterable[PricedLine], *, shipping: Decimal, discount_percent: Decimal = ZERO
) -> Totals:
    """Price a cart or an order. An empty cart costs nothing, not even shipping."""
    lines = list(lines)
    if not lines:
        return Totals(ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, (), ZERO, ZERO)

    net_by_rate: dict[Decimal, Decimal] = {}
    for line in lines:
        net_by_rate[line.vat_rate] = net_by_rate.get(line.vat_rate, ZERO) + line.net
    shipping = to_cents(shipping)
    shipping_vat_rate = max(net_by_rate)

    vat: list[VatAmount] = []
    discount = discount_gross = ZERO
    for rate in sorted(net_by_rate):
        # The discount is a percentage, so each rate's share is exact before rounding.
        rate_discount = to_cents(net_by_rate[rate] * discount_percent / 100)
        taxable = net_by_rate[rate] - rate_discount
        if rate == shipping_vat_rate:
            taxable += shipping
        vat.append(VatAmount(rate=rate, taxable=taxable, vat=to_cents(taxable * rate)))
        discount += rate_discount
        discount_gross += to_cents(rate_discount * (1 + rate))

    subtotal = sum(net_by_rate.values(), ZERO)
    vat_total = sum((v.vat for v in vat), ZERO)
    return Totals(
        subtotal=subtotal,
        discount=discount,
        discount_gross=discount_gross,
        shipping=shipping,
        shipping_gross=to_cents(shipping * (1 + shipping_vat_rate)),
        shipping_vat_rate=shipping_vat_rate,
        vat=tuple(vat),
        vat_total=vat_total,
        total=subtotal - discount + shipping + vat_total,
    )
