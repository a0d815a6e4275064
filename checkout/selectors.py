"""Reads of the storefront: buyers, carts, the checkout context, offered methods, orders."""

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from integrations import registry
from payment_rules import context
from payment_rules.methods import PaymentMethod
from payment_rules.selectors import applicable_methods

from .models import Buyer, Cart, CartLine, CustomerAddress, Order, Payment, Product
from .pricing import ZERO, Totals, compute_totals


def buyer_for_user(user: AbstractBaseUser | AnonymousUser) -> Buyer | None:
    if not user.is_authenticated:
        return None
    # Every shop request reads the buyer: the request's user is loaded already, so only the
    # buyer and its company are read, and by `get` (one row by a unique key, no ORDER BY).
    try:
        buyer = Buyer.objects.select_related("customer").get(user_id=user.pk)
    except Buyer.DoesNotExist:
        return None
    buyer.user = user  # type: ignore[assignment]  # the same row, read by the auth middleware
    return buyer


def products_on_sale() -> QuerySet[Product]:
    return Product.objects.filter(is_active=True)


def cart_lines(cart: Cart) -> list[CartLine]:
    return list(cart.lines.select_related("product"))


def billing_addresses(buyer: Buyer) -> QuerySet[CustomerAddress]:
    return CustomerAddress.objects.filter(customer=buyer.customer_id, is_billing=True)


def shipping_addresses(buyer: Buyer) -> QuerySet[CustomerAddress]:
    return CustomerAddress.objects.filter(customer=buyer.customer_id, is_shipping=True)


def shipping_cost(lines: list[CartLine]) -> Decimal:
    """The flat rate, net; an empty cart ships nothing."""
    return settings.SHIPPING_FLAT_RATE if lines else ZERO


def cart_totals(*, buyer: Buyer, lines: list[CartLine]) -> Totals:
    return compute_totals(
        [line.priced() for line in lines],
        shipping=shipping_cost(lines),
        discount_percent=buyer.customer.discount_percent,
    )


def cart_currency(lines: list[CartLine]) -> str:
    """The cart's currency; empty for an empty cart, which therefore gets no methods."""
    return lines[0].product.currency if lines else ""


def checkout_fingerprint(*, cart: Cart, lines: list[CartLine], totals: Totals) -> str:
    """A digest of everything the review page shows: the lines with their prices, the
    addresses, the shipping and payment methods, the payment method's data and the totals.

    Placing an order recomputes it, so an order differs from what its buyer reviewed only
    by being refused (a second tab changed the cart, an admin changed a price).
    """
    reviewed = {
        "lines": [
            [
                line.product_id,
                line.product.sku,
                line.product.name,
                line.product.currency,
                line.quantity,
                line.product.unit_price,
                line.product.vat_rate,
            ]
            for line in lines
        ],
        "billing_address": _address_fingerprint(cart.billing_address),
        "shipping_address": _address_fingerprint(cart.shipping_address),
        "shipping_method": cart.shipping_method,
        "payment_method": cart.payment_method,
        "method_data": cart.method_data,
        "totals": dataclasses.asdict(totals),
    }
    canonical = json.dumps(reviewed, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def checkout_context(
    *, buyer: Buyer, cart: Cart, lines: list[CartLine], totals: Totals
) -> context.CheckoutContext:
    """What payment rules and integration types see of this checkout."""
    return context.CheckoutContext(
        currency=cart_currency(lines),
        billing_address=_address_context(cart.billing_address),
        shipping_address=_address_context(cart.shipping_address),
        subtotal=totals.subtotal,
        total=totals.total,
        line_items=tuple(
            context.LineItem(
                sku=line.product.sku,
                name=line.product.name,
                quantity=line.quantity,
                unit_price=line.product.unit_price,
                vat_rate=line.product.vat_rate,
            )
            for line in lines
        ),
        customer=buyer.customer.as_context(),
        buyer=context.Buyer(email=buyer.email, id=buyer.pk),
    )


def payment_methods(
    *, buyer: Buyer, cart: Cart, lines: list[CartLine], totals: Totals
) -> list[PaymentMethod]:
    """Exactly the methods the payment rules allow for this checkout, in their order."""
    return applicable_methods(
        context=checkout_context(buyer=buyer, cart=cart, lines=lines, totals=totals)
    )


def describe_method_data(*, method: str, method_data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The data a payment method took, as (label, value) lines in its type's words."""
    return registry.get_method_type(method).describe_method_data(method_data)


def customer_orders(*, buyer: Buyer) -> QuerySet[Order]:
    """The orders of the buyer's company (every buyer of it sees them all)."""
    return Order.objects.filter(customer=buyer.customer_id).select_related(
        "buyer__user", "current_payment__integration"
    )


def customer_order(*, buyer: Buyer, number: str) -> Order | None:
    """One order of the buyer's company; another company's order does not exist for them."""
    try:
        order = customer_orders(buyer=buyer).get(number=number)
    except Order.DoesNotExist:
        return None
    order.customer = buyer.customer  # the buyer's company, read with the buyer
    return order


def order_context(order: Order) -> context.CheckoutContext:
    """The checkout context of a placed order, from its snapshots (for paying it again)."""
    return context.CheckoutContext(
        currency=order.currency,
        billing_address=order.billing_address_context(),
        shipping_address=order.shipping_address_context(),
        subtotal=order.subtotal,
        total=order.total,
        line_items=tuple(
            context.LineItem(
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                vat_rate=line.vat_rate,
            )
            for line in order.lines.all()
        ),
        customer=order.customer.as_context(),
        buyer=context.Buyer(email=order.buyer.user.email, id=order.buyer_id),
    )


def can_pay_again(order: Order) -> bool:
    """A payment declined, or closed without being guaranteed, leaves the order to pay again."""
    payment = order.current_payment
    return payment is not None and payment.status in (
        Payment.Status.DECLINED,
        Payment.Status.CANCELED,
    )


def pay_again_methods(
    order: Order, *, context: context.CheckoutContext | None = None
) -> list[PaymentMethod]:
    """What the rules allow for this order now, less every method that declined it.

    `context`: the order's checkout context, when the caller has it already.
    """
    declined = order.payments.filter(status=Payment.Status.DECLINED).values_list(
        "method", flat=True
    )
    return applicable_methods(
        context=context if context is not None else order_context(order), exclude=set(declined)
    )


def describe_payment_status(
    payment: Payment, *, invoice_terms: registry.InvoiceTerms | None = None
) -> str:
    """The payment status in the buyer's words, as the payment's integration type tells it.

    A guaranteed invoice is not "paid in full" to a buyer, who still has to pay it: it reads
    "Guaranteed by InfinitePay · invoice due 31.12.2026".
    `invoice_terms`: the payment's invoice terms, when the caller has read them already.
    """
    integration_type = payment.integration.integration_type
    if not _is_guaranteed(payment):
        return integration_type.describe_status(payment)
    terms = invoice_terms or integration_type.invoice_terms(payment)
    if terms is None or terms.due_on is None:
        return payment_status_label(payment)
    return _("Guaranteed by %(method)s · invoice due %(date)s") % {
        "method": payment.integration.short_label,
        "date": date_format(terms.due_on, "SHORT_DATE_FORMAT"),
    }


def payment_status_label(payment: Payment) -> str:
    """The payment status in a word or two, for lists (no query beyond the payment's row)."""
    if _is_guaranteed(payment):
        return _("Guaranteed by %(method)s") % {"method": payment.integration.short_label}
    return str(payment.get_status_display())


def invoice_terms(payment: Payment) -> registry.InvoiceTerms | None:
    """When the buyer's invoice falls due, if the payment's method bills on known terms.

    A declined or canceled payment leaves no invoice to pay: none.
    """
    if payment.status in (Payment.Status.DECLINED, Payment.Status.CANCELED):
        return None
    return payment.integration.integration_type.invoice_terms(payment)


def is_confirming(payment: Payment) -> bool:
    """Whether the payment is being confirmed right now: the order page follows it."""
    return payment.integration.integration_type.is_confirming(payment)


def _is_guaranteed(payment: Payment) -> bool:
    return (
        payment.status == Payment.Status.PAID_IN_FULL
        and payment.integration.integration_type.guarantees_invoice
    )


def _address_context(address: CustomerAddress | None) -> context.Address | None:
    return None if address is None else context.Address(**address.snapshot())


def _address_fingerprint(address: CustomerAddress | None) -> dict[str, str | int] | None:
    return None if address is None else {"id": address.pk, **address.snapshot()}
