"""Writes of the storefront: the cart, the checkout steps, placing orders, payment status."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backoffice.money import format_number
from integrations import registry

from . import selectors
from .models import (
    MAX_QUANTITY,
    Buyer,
    Cart,
    CartLine,
    CustomerAddress,
    Order,
    OrderLine,
    Payment,
    Product,
    ShippingMethod,
    order_number_for,
)
from .pricing import PricedLine, Totals
from .validators import MAX_ID

CART_CHANGED = gettext_lazy("Your cart has changed; please review it again.")
METHOD_DATA_CHANGED = gettext_lazy(
    "Your payment method needs other details now; please give them again."
)
# The amounts an order keeps, by the column that keeps them: whatever fits every one of
# them can be placed; anything larger is refused before a row is written.
ORDER_AMOUNTS = [
    "subtotal",
    "discount",
    "discount_gross",
    "shipping",
    "shipping_gross",
    "vat_total",
    "total",
]
LINE_AMOUNTS = {"unit_price": "unit_net", "net": "net", "vat": "vat", "gross": "gross"}


class CheckoutError(Exception):
    """The checkout cannot go on as it stands; `step` names the page that fixes it."""

    def __init__(self, message: str, *, step: str) -> None:
        super().__init__(message)
        self.message = message
        self.step = step


class StaleCheckout(Exception):
    """A "Place order" form whose token is no longer the cart's, and which placed no order."""


class CartChanged(CheckoutError):
    """The checkout is no longer the one its buyer reviewed: review it again."""

    def __init__(self) -> None:
        super().__init__(str(CART_CHANGED), step="review")


@dataclass(frozen=True)
class CartAddition:
    line: CartLine
    added: int  # fewer than asked for when the line reached MAX_QUANTITY


def get_cart(*, buyer: Buyer) -> Cart:
    cart, _ = Cart.objects.select_related("billing_address", "shipping_address").get_or_create(
        buyer=buyer
    )
    cart.buyer = buyer  # already loaded, with its customer: spare the steps a query
    return cart


@transaction.atomic
def add_to_cart(*, buyer: Buyer, product: Product, quantity: int) -> CartAddition:
    """Add a quantity of a product, up to MAX_QUANTITY in the line; a cart holds one currency."""
    if quantity < 1:
        raise ValidationError(_("Add at least one."))
    if not product.is_active:
        raise ValidationError(_("%(product)s is not on sale.") % {"product": product.name})
    cart = get_cart(buyer=buyer)
    other_currency = cart.lines.exclude(product__currency=product.currency).exists()
    if other_currency:
        raise ValidationError(
            _("%(product)s is sold in %(currency)s; a cart holds one currency.")
            % {"product": product.name, "currency": product.currency}
        )
    line, created = CartLine.objects.select_for_update().get_or_create(
        cart=cart, product=product, defaults={"quantity": min(quantity, MAX_QUANTITY)}
    )
    if created:
        return CartAddition(line=line, added=line.quantity)
    before = line.quantity
    line.quantity = min(before + quantity, MAX_QUANTITY)
    if line.quantity != before:
        line.save(update_fields=["quantity"])
    return CartAddition(line=line, added=line.quantity - before)


@transaction.atomic
def set_cart_quantity(*, buyer: Buyer, product_id: int, quantity: int) -> None:
    """Change a line's quantity; zero removes the line."""
    if quantity < 0:
        raise ValidationError(_("A quantity cannot be negative."))
    if quantity > MAX_QUANTITY:
        raise ValidationError(
            _("A cart line holds at most %(most)s.") % {"most": format_number(MAX_QUANTITY)}
        )
    if not 1 <= product_id <= MAX_ID:
        return  # no product has such an id, so no line of the cart either
    lines = CartLine.objects.filter(cart__buyer=buyer, product_id=product_id)
    if quantity == 0:
        lines.delete()
    else:
        lines.update(quantity=quantity)


def choose_billing_address(*, cart: Cart, address: CustomerAddress) -> None:
    customer = cart.buyer.customer
    if address.customer_id != customer.pk or not address.is_billing:
        raise ValidationError(_("Choose one of your company's billing addresses."))
    cart.billing_address = address
    cart.save(update_fields=["billing_address", "updated_at"])


def choose_shipping_address(*, cart: Cart, address: CustomerAddress) -> None:
    if address.customer_id != cart.buyer.customer_id or not address.is_shipping:
        raise ValidationError(_("Choose one of your company's shipping addresses."))
    cart.shipping_address = address
    cart.save(update_fields=["shipping_address", "updated_at"])


def choose_shipping_method(*, cart: Cart, shipping_method: str) -> None:
    if shipping_method not in ShippingMethod.values:
        raise ValidationError(_("Choose a shipping method."))
    cart.shipping_method = shipping_method
    cart.save(update_fields=["shipping_method", "updated_at"])


def choose_payment_method(
    *,
    cart: Cart,
    method: str,
    allowed: list[str],
    method_data: Mapping[str, Any] | None = None,
) -> None:
    """Keep the buyer's payment method, one of `allowed` (what the rules offer right now),
    and the data it takes, as the method's integration type checks it."""
    if method not in allowed:
        raise ValidationError(_("Choose one of the payment methods offered."))
    cart.method_data = registry.get_method_type(method).clean_method_data(method_data or {})
    cart.payment_method = method
    cart.save(update_fields=["payment_method", "method_data", "updated_at"])


@transaction.atomic
def place_order(
    *,
    buyer: Buyer,
    checkout_token: uuid.UUID,
    buyer_ip: str | None,
    fingerprint: str | None = None,
) -> Order:
    """Turn the buyer's cart into an order and start its payment, in one transaction.

    Idempotent per checkout token: a second submit of the same form returns the order the
    first one placed. With the review page's `fingerprint` (the storefront always sends
    it; scripts and benchmarks place what the cart holds) the order is placed only if the
    checkout is still the one reviewed, else `CartChanged`. No provider is called here; a
    payment method's `start` only records what its background work needs (and enqueues it
    on commit).
    """
    # The cart row lock queues a concurrent second submit until the first commits; it then
    # sees the placed order below. The unique idempotency key is the backstop.
    cart = (
        Cart.objects.select_for_update(of=("self",))
        .select_related("billing_address", "shipping_address")
        .filter(buyer=buyer)
        .first()
    )
    placed = Order.objects.filter(customer=buyer.customer_id, idempotency_key=checkout_token)
    order = placed.first()
    if order is not None:
        return order
    if cart is None or cart.checkout_token != checkout_token:
        raise StaleCheckout("This checkout form is out of date.")

    lines = selectors.cart_lines(cart)
    totals = selectors.cart_totals(buyer=buyer, lines=lines)
    # Under the cart's lock: nothing can change it between this comparison and the commit.
    if fingerprint is not None and fingerprint != selectors.checkout_fingerprint(
        cart=cart, lines=lines, totals=totals
    ):
        raise CartChanged()
    check_ready(buyer=buyer, cart=cart, lines=lines, totals=totals)
    methods = selectors.payment_methods(buyer=buyer, cart=cart, lines=lines, totals=totals)
    if cart.payment_method not in {m.identifier for m in methods}:
        raise CheckoutError(
            _("Your payment method is no longer available for this order; choose again."),
            step="payment",
        )
    identifier = registry.MethodIdentifier.parse(cart.payment_method)
    integration_type = registry.get_type(identifier.type_key)
    try:
        # What the method's type asks for may have changed since the buyer gave it.
        method_data = integration_type.clean_method_data(cart.method_data)
    except ValidationError:
        raise CheckoutError(str(METHOD_DATA_CHANGED), step="payment") from None
    billing, shipping = cart.billing_address, cart.shipping_address
    # check_ready refused a cart without them, read with the cart under its lock.
    assert billing is not None and shipping is not None

    order = Order.objects.create(
        # A unique placeholder until the id, which the number is made of, exists.
        number=f"pending-{checkout_token.hex}",
        customer=buyer.customer,
        buyer=buyer,
        currency=selectors.cart_currency(lines),
        billing_address=billing.snapshot(),
        shipping_address=shipping.snapshot(),
        shipping_method=cart.shipping_method,
        subtotal=totals.subtotal,
        discount=totals.discount,
        discount_gross=totals.discount_gross,
        shipping=totals.shipping,
        shipping_gross=totals.shipping_gross,
        shipping_vat_rate=totals.shipping_vat_rate,
        vat_total=totals.vat_total,
        vat_breakdown=_vat_breakdown(totals),
        total=totals.total,
        buyer_ip=buyer_ip,
        idempotency_key=checkout_token,
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            sku=priced.sku,
            name=priced.name,
            quantity=priced.quantity,
            unit_price=priced.unit_net,
            vat_rate=priced.vat_rate,
            net=priced.net,
            vat=priced.vat,
            gross=priced.gross,
        )
        for priced in (line.priced() for line in lines)
    )
    order.number = order_number_for(order.pk)
    payment = _create_payment(order=order, identifier=identifier, method_data=method_data)
    order.save(update_fields=["number", "current_payment"])
    integration_type.start(payment)

    cart.lines.all().delete()
    cart.checkout_token = uuid.uuid4()
    cart.payment_method = ""
    cart.method_data = {}
    cart.save(update_fields=["checkout_token", "payment_method", "method_data", "updated_at"])
    return order


@transaction.atomic
def pay_again(
    *, order: Order, method: str, method_data: Mapping[str, Any] | None = None
) -> Payment:
    """Pay a declined order with another method the rules allow; the order stays the same.

    The order row is locked, so a double submit finds the new payment and changes nothing.
    """
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("current_payment", "customer", "buyer__user")
        .get(pk=order.pk)
    )
    if not selectors.can_pay_again(order):
        raise CheckoutError(_("This order's payment was not declined."), step="order")
    allowed = [m.identifier for m in selectors.pay_again_methods(order)]
    if method not in allowed:
        raise ValidationError(_("Choose one of the payment methods offered."))
    identifier = registry.MethodIdentifier.parse(method)
    integration_type = registry.get_type(identifier.type_key)
    data = integration_type.clean_method_data(method_data or {})
    payment = _create_payment(order=order, identifier=identifier, method_data=data)
    order.save(update_fields=["current_payment"])
    integration_type.start(payment)
    return payment


def set_payment_status(*, payment: Payment, status: Payment.Status) -> None:
    """Record a payment's status in Oro's words; integration types call this on change."""
    payment.status = status
    payment.save(update_fields=["status", "updated_at"])


def check_ready(*, buyer: Buyer, cart: Cart, lines: list[CartLine], totals: Totals) -> None:
    """Raise `CheckoutError` for what keeps this checkout from being placed as it stands."""
    if not lines:
        raise CheckoutError(_("Your cart is empty."), step="cart")
    if not all(line.product.is_active for line in lines):
        raise CheckoutError(_("A product in your cart is no longer on sale."), step="cart")
    # A company without a VAT ID checks out too: only the methods that need one (InfinitePay)
    # are not offered to it.
    if cart.billing_address is None or cart.billing_address.customer_id != buyer.customer_id:
        raise CheckoutError(_("Choose a billing address."), step="billing")
    if cart.shipping_address is None or cart.shipping_address.customer_id != buyer.customer_id:
        raise CheckoutError(_("Choose a shipping address."), step="shipping")
    if not cart.shipping_method:
        raise CheckoutError(_("Choose a shipping method."), step="shipping_method")
    if not cart.payment_method:
        raise CheckoutError(_("Choose a payment method."), step="payment")
    _check_amounts(totals=totals, lines=[line.priced() for line in lines])


def _check_amounts(*, totals: Totals, lines: list[PricedLine]) -> None:
    """Every amount of the order must fit its column (on SQLite a larger one would be kept
    as a float, losing cents, and break every list that reads it back)."""
    amounts = [(_money_field(Order, name), getattr(totals, name)) for name in ORDER_AMOUNTS]
    amounts += [
        (_money_field(OrderLine, column), getattr(line, attribute))
        for line in lines
        for column, attribute in LINE_AMOUNTS.items()
    ]
    for field, amount in amounts:
        try:
            field.run_validators(amount)
        except ValidationError:
            raise CheckoutError(
                _(
                    "This order is too large to be placed: no amount in an order can exceed "
                    "%(largest)s. Lower the quantities or split the order."
                )
                % {"largest": format_number(_largest(field))},
                step="cart",
            ) from None


def _money_field(model: type[models.Model], name: str) -> models.DecimalField:
    field = model._meta.get_field(name)
    assert isinstance(field, models.DecimalField)
    return field


def _largest(field: models.DecimalField) -> Decimal:
    places = field.decimal_places
    return Decimal(10) ** (field.max_digits - places) - Decimal(10) ** -places


def _create_payment(
    *, order: Order, identifier: registry.MethodIdentifier, method_data: dict[str, Any]
) -> Payment:
    # The rules have just offered this method, so its integration exists: it is not read
    # again (the foreign key still guards it).
    payment = Payment.objects.create(
        order=order,
        method=str(identifier),
        integration_id=identifier.integration_id,
        amount=order.total,
        currency=order.currency,
        method_data=method_data,
    )
    order.current_payment = payment
    return payment


def _vat_breakdown(totals: Totals) -> list[dict[str, str]]:
    return [{"rate": str(v.rate), "taxable": str(v.taxable), "vat": str(v.vat)} for v in totals.vat]
