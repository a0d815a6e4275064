"""Storefront pages: catalog, cart, the checkout steps and the buyer's orders.

Server-rendered forms that work without JavaScript; every POST answers with a redirect.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial, wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import QuerySet, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from backoffice.money import format_number
from integrations.registry import InvoiceTerms
from payment_rules.context import CheckoutContext
from payment_rules.methods import PaymentMethod
from payment_rules.selectors import applicable_methods

from . import selectors, services
from .forms import (
    AddressForm,
    AddToCartForm,
    CartQuantityForm,
    PaymentMethodForm,
    PlaceOrderForm,
    ShippingMethodForm,
)
from .models import MAX_QUANTITY, Buyer, Cart, CartLine, CustomerAddress, Order, Payment

# The checkout steps in order: (url name, title, whether the cart has what the step sets).
STEPS: list[tuple[str, Any, Callable[[Cart], bool]]] = [
    ("billing", gettext_lazy("Billing address"), lambda cart: cart.billing_address_id is not None),
    (
        "shipping",
        gettext_lazy("Shipping address"),
        lambda cart: cart.shipping_address_id is not None,
    ),
    ("shipping_method", gettext_lazy("Shipping method"), lambda cart: bool(cart.shipping_method)),
    ("payment", gettext_lazy("Payment"), lambda cart: bool(cart.payment_method)),
    ("review", gettext_lazy("Review"), lambda cart: False),
]
# A payment still being confirmed after this long is worth a word on the order page.
SLOW_CONFIRMATION = timedelta(seconds=4)


class BuyerRequest(HttpRequest):
    """A request of a logged-in buyer: `buyer_required` sets `buyer`."""

    buyer: Buyer


def buyer_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let in logged-in users who buy for a company, with `request.buyer` set."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        buyer = selectors.buyer_for_user(request.user)
        if buyer is None:
            return render(request, "checkout/not_a_buyer.html", status=403)
        request.buyer = buyer  # type: ignore[attr-defined]  # it becomes a BuyerRequest
        return view(request, *args, **kwargs)

    return wrapper


@buyer_required
def product_list(request: BuyerRequest) -> HttpResponse:
    return render(
        request,
        "checkout/product_list.html",
        {"products": selectors.products_on_sale(), "form": AddToCartForm()},
    )


@require_POST
@buyer_required
def add_to_cart(request: BuyerRequest, product_id: int) -> HttpResponse:
    product = get_object_or_404(selectors.products_on_sale(), pk=product_id)
    form = AddToCartForm(request.POST)
    if not form.is_valid():
        messages.error(request, _quantity_range(1))
        return redirect("checkout:home")
    try:
        addition = services.add_to_cart(
            buyer=request.buyer, product=product, quantity=form.cleaned_data["quantity"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("checkout:home")
    if addition.added < form.cleaned_data["quantity"]:
        messages.warning(
            request,
            _(
                "Added %(added)s × %(product)s: your cart now holds %(held)s, "
                "the most one line can hold."
            )
            % {
                "added": format_number(addition.added),
                "product": product.name,
                "held": format_number(addition.line.quantity),
            },
        )
    else:
        messages.success(
            request,
            _("Added %(added)s × %(product)s.")
            % {
                "added": format_number(addition.added),
                "product": product.name,
            },
        )
    return redirect("checkout:cart")


@buyer_required
def cart(request: BuyerRequest) -> HttpResponse:
    if request.method == "POST":
        form = CartQuantityForm(request.POST)
        if form.is_valid():
            services.set_cart_quantity(
                buyer=request.buyer,
                product_id=form.cleaned_data["product"],
                quantity=form.cleaned_data["quantity"],
            )
        else:
            messages.error(request, _quantity_range(0))
        return redirect("checkout:cart")
    buyer_cart = services.get_cart(buyer=request.buyer)
    lines = selectors.cart_lines(buyer_cart)
    return render(
        request,
        "checkout/cart.html",
        {
            "lines": lines,
            "totals": selectors.cart_totals(buyer=request.buyer, lines=lines),
            "currency": selectors.cart_currency(lines),
        },
    )


@dataclass(frozen=True)
class AddressStep:
    """What tells the billing and the shipping address steps apart."""

    addresses: Callable[[Buyer], QuerySet[CustomerAddress]]
    chosen: Callable[[Cart], int | None]  # the address shown chosen
    choose: Callable[..., None]  # the service keeping the buyer's choice
    next_step: str


ADDRESS_STEPS = {
    "billing": AddressStep(
        addresses=selectors.billing_addresses,
        chosen=lambda cart: cart.billing_address_id,
        choose=services.choose_billing_address,
        next_step="shipping",
    ),
    "shipping": AddressStep(
        addresses=selectors.shipping_addresses,
        chosen=lambda cart: cart.shipping_address_id or cart.billing_address_id,
        choose=services.choose_shipping_address,
        next_step="shipping_method",
    ),
}


@buyer_required
def billing(request: BuyerRequest) -> HttpResponse:
    return _address_step(request, "billing")


@buyer_required
def shipping(request: BuyerRequest) -> HttpResponse:
    return _address_step(request, "shipping")


@buyer_required
def shipping_method(request: BuyerRequest) -> HttpResponse:
    cart, lines, detour = _checkout_step(request, "shipping_method")
    if detour:
        return detour
    form = ShippingMethodForm(
        request.POST or None, initial={"shipping_method": cart.shipping_method or "flat_rate"}
    )
    if request.method == "POST" and form.is_valid():
        services.choose_shipping_method(
            cart=cart, shipping_method=form.cleaned_data["shipping_method"]
        )
        return redirect("checkout:payment")
    totals = selectors.cart_totals(buyer=request.buyer, lines=lines)
    return _render_step(
        request, "shipping_method", cart, lines, {"form": form, "flat_rate": totals.shipping}
    )


@buyer_required
def payment(request: BuyerRequest) -> HttpResponse:
    cart, lines, detour = _checkout_step(request, "payment")
    if detour:
        return detour
    totals = selectors.cart_totals(buyer=request.buyer, lines=lines)
    context = selectors.checkout_context(buyer=request.buyer, cart=cart, lines=lines, totals=totals)
    # One context for the rules and for the methods' forms (selectors.payment_methods, once).
    methods = applicable_methods(context=context)
    form, chosen = _choose_payment_method(
        request,
        methods=methods,
        context=context,
        pay=partial(
            services.choose_payment_method, cart=cart, allowed=[m.identifier for m in methods]
        ),
        chosen=cart.payment_method,
        method_data=cart.method_data,
    )
    if chosen:
        return redirect("checkout:review")
    return _render_step(
        request,
        "payment",
        cart,
        lines,
        # Some methods (InfinitePay) are offered only to companies with a VAT ID.
        {"form": form, "methods": methods, "without_vat_id": not request.buyer.customer.vat_id},
    )


@buyer_required
def review(request: BuyerRequest) -> HttpResponse:
    cart, lines, detour = _checkout_step(request, "review")
    if detour:
        return detour
    totals = selectors.cart_totals(buyer=request.buyer, lines=lines)
    methods = selectors.payment_methods(buyer=request.buyer, cart=cart, lines=lines, totals=totals)
    method = next((m for m in methods if m.identifier == cart.payment_method), None)
    if method is None:
        messages.error(request, _("Your payment method is not available for this order any more."))
        return redirect("checkout:payment")
    try:
        services.check_ready(buyer=request.buyer, cart=cart, lines=lines, totals=totals)
    except services.CheckoutError as error:
        messages.error(request, error.message)
        return redirect(f"checkout:{error.step}")
    fingerprint = selectors.checkout_fingerprint(cart=cart, lines=lines, totals=totals)
    return _render_step(
        request,
        "review",
        cart,
        lines,
        {
            "lines": [line.priced() for line in lines],
            "totals": totals,
            "method": method,
            "method_data": selectors.describe_method_data(
                method=method.identifier, method_data=cart.method_data
            ),
            "form": PlaceOrderForm(
                initial={"checkout_token": cart.checkout_token, "fingerprint": fingerprint}
            ),
        },
    )


@require_POST
@buyer_required
def place_order(request: BuyerRequest) -> HttpResponse:
    form = PlaceOrderForm(request.POST)
    if not form.is_valid():
        messages.error(request, services.CART_CHANGED)
        return redirect("checkout:review")
    token = form.cleaned_data["checkout_token"]
    try:
        order = services.place_order(
            buyer=request.buyer,
            checkout_token=token,
            buyer_ip=request.META.get("REMOTE_ADDR"),
            fingerprint=form.cleaned_data["fingerprint"],
        )
    except services.StaleCheckout:
        messages.error(request, services.CART_CHANGED)
        return redirect("checkout:review")
    except services.CheckoutError as error:
        messages.error(request, error.message)
        return redirect(f"checkout:{error.step}")
    except IntegrityError:
        # Two submits of one form raced past each other; the first one's order stands.
        order = get_object_or_404(Order, customer=request.buyer.customer, idempotency_key=token)
    return redirect("checkout:order_placed", number=order.number)


@buyer_required
def order_placed(request: BuyerRequest, number: str) -> HttpResponse:
    """The confirmation after placing: the order number and what happens next."""
    order = _customer_order(request, number)
    payment = order.current_payment
    return render(
        request,
        "checkout/order_placed.html",
        {
            "order": order,
            "payment": payment,
            "invoice_terms": selectors.invoice_terms(payment) if payment else None,
            "confirming": selectors.is_confirming(payment) if payment else False,
        },
    )


@buyer_required
def order_list(request: BuyerRequest) -> HttpResponse:
    orders = selectors.customer_orders(buyer=request.buyer)
    return render(
        request,
        "checkout/order_list.html",
        {
            # Each order with its payment status in a word or two ("Guaranteed by …").
            "rows": [
                (order, selectors.payment_status_label(order.current_payment))
                if order.current_payment
                else (order, "")
                for order in orders
            ]
        },
    )


@buyer_required
def order_detail(request: BuyerRequest, number: str) -> HttpResponse:
    order = _customer_order(request, number)
    # The page lists the lines, and paying again reads them for the rules: read once.
    prefetch_related_objects([order], "lines")
    current = order.current_payment
    can_pay_again = selectors.can_pay_again(order)
    # Read once, for the status line and the due date.
    invoice_terms = selectors.invoice_terms(current) if current else None
    progress = _payment_progress(current, invoice_terms=invoice_terms)
    return render(
        request,
        "checkout/order_detail.html",
        {
            "order": order,
            "lines": order.lines.all(),
            "payment": current,
            "payment_status": progress["status"],
            "confirming": progress["confirming"],
            "slow": progress["slow"],
            "invoice_terms": invoice_terms,
            "can_pay_again": can_pay_again,
            # After a decline: the methods the buyer may pay the same order with instead.
            "other_methods": selectors.pay_again_methods(order) if can_pay_again else [],
        },
    )


@buyer_required
def order_status(request: BuyerRequest, number: str) -> JsonResponse:
    """The payment status the order page follows while the guarantee runs."""
    order = _customer_order(request, number)
    pay_again_url = reverse("checkout:pay_again", args=[order.number])
    return JsonResponse(
        {
            **_payment_progress(order.current_payment),
            "pay_again_url": pay_again_url if selectors.can_pay_again(order) else None,
        }
    )


@buyer_required
def pay_again(request: BuyerRequest, number: str) -> HttpResponse:
    """After a decline: pay the same order with another method the rules allow."""
    order = _customer_order(request, number)
    if not selectors.can_pay_again(order):
        return redirect("checkout:order_detail", number=order.number)
    context = selectors.order_context(order)
    methods = selectors.pay_again_methods(order, context=context)
    try:
        form, paid = _choose_payment_method(
            request, methods=methods, context=context, pay=partial(services.pay_again, order=order)
        )
    except services.CheckoutError:
        # Paid again already (a second submit): the order page shows how.
        return redirect("checkout:order_detail", number=order.number)
    if paid:
        messages.success(request, _("Thank you: the order is being paid with your new choice."))
        return redirect("checkout:order_detail", number=order.number)
    return render(
        request, "checkout/pay_again.html", {"order": order, "form": form, "methods": methods}
    )


def _customer_order(request: BuyerRequest, number: str) -> Order:
    """The order of the buyer's company with this number; any other is not found."""
    order = selectors.customer_order(buyer=request.buyer, number=number)
    if order is None:
        raise Http404(_("No such order."))
    return order


def _quantity_range(least: int) -> str:
    return _("Enter a quantity from %(least)s to %(most)s.") % {
        "least": least,
        "most": MAX_QUANTITY,
    }


def _payment_progress(
    payment: Payment | None, *, invoice_terms: InvoiceTerms | None = None
) -> dict[str, Any]:
    """What the order page shows of a payment and follows while it is being confirmed:
    `slow` once confirming takes longer than a few seconds.

    `invoice_terms`: the payment's, when the caller has read them already."""
    if payment is None:
        return {"code": "", "status": _("No payment"), "confirming": False, "slow": False}
    confirming = selectors.is_confirming(payment)
    return {
        "code": payment.status,
        "status": selectors.describe_payment_status(payment, invoice_terms=invoice_terms),
        "confirming": confirming,
        "slow": confirming and timezone.now() - payment.created_at > SLOW_CONFIRMATION,
    }


def _address_step(request: BuyerRequest, step: str) -> HttpResponse:
    """The billing or the shipping address step: one of the company's addresses of that kind."""
    kind = ADDRESS_STEPS[step]
    cart, lines, detour = _checkout_step(request, step)
    if detour:
        return detour
    form = AddressForm(
        request.POST or None,
        addresses=kind.addresses(request.buyer),
        initial={"address": kind.chosen(cart)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            kind.choose(cart=cart, address=form.cleaned_data["address"])
        except ValidationError as error:
            form.add_error("address", error)
        else:
            return redirect(f"checkout:{kind.next_step}")
    return _render_step(request, step, cart, lines, {"form": form, "kind": step})


def _choose_payment_method(
    request: HttpRequest,
    *,
    methods: list[PaymentMethod],
    context: CheckoutContext,
    pay: Callable[..., object],
    chosen: str = "",
    method_data: Mapping[str, Any] | None = None,
) -> tuple[PaymentMethodForm, bool]:
    """The payment step and paying again alike: offer `methods` with the data each takes,
    and hand the buyer's choice and its data to `pay` (a service).

    Returns the form (to show again, with its errors) and whether `pay` took the choice.
    """
    form = PaymentMethodForm(
        request.POST or None,
        methods=methods,
        context=context,
        chosen=chosen,
        method_data=method_data,
    )
    if request.method != "POST" or not form.is_valid():
        return form, False
    try:
        pay(method=form.cleaned_data["method"], method_data=form.method_data)
    except ValidationError as error:
        form.add_error(None, error)
        return form, False
    return form, True


def _checkout_step(
    request: BuyerRequest, step: str
) -> tuple[Cart, list[CartLine], HttpResponse | None]:
    """The buyer's cart and lines, and a redirect if `step` cannot be shown yet."""
    cart = services.get_cart(buyer=request.buyer)
    lines = selectors.cart_lines(cart)
    if not lines:
        messages.info(request, _("Your cart is empty."))
        return cart, lines, redirect("checkout:cart")
    for name, _title, done in STEPS:
        if name == step:
            break
        if not done(cart):
            return cart, lines, redirect(f"checkout:{name}")
    return cart, lines, None


def _render_step(
    request: BuyerRequest, step: str, cart: Cart, lines: list, extra: dict
) -> HttpResponse:
    steps = [
        {"name": name, "title": title, "current": name == step, "done": done(cart)}
        for name, title, done in STEPS
    ]
    return render(
        request,
        f"checkout/step_{step}.html",
        {
            "step": step,
            "steps": steps,
            "cart": cart,
            "lines": lines,
            "currency": selectors.cart_currency(lines),
            "buyer": request.buyer,
            **extra,
        },
    )
