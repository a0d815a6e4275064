"""Map a placed order and its guarantee to the values InfinitePay is sent.

Each step's request is built by one function of the same shape, `(guarantee, today)`, named
in the step's entry of `infinitepay.steps.STEPS`.

The order's own snapshots are the source: what the buyer saw at checkout is what
InfinitePay guarantees, whatever changes in the catalog or the customer afterwards.
"""

import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as LookupTimeout
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from checkout.models import Order

from . import messages
from .models import Guarantee

CENT = Decimal("0.01")
# Sent when the order has no buyer IP (placed outside a web request, e.g. by a script).
UNKNOWN_IP = "0.0.0.0"
# ISP is the reverse DNS name of the buyer's IP, as Oro sends it; a slow resolver must not
# hold a step, so the lookup gets this long and the field is left out after that.
HOST_NAME_LOOKUP_SECONDS = 1.0
_lookups = ThreadPoolExecutor(max_workers=4, thread_name_prefix="infinitepay-isp")


def order_id_for(*, order_number: str, payment_id: int) -> str:
    """The ORDER_ID of one payment: stable for every call, unique per payment of an order."""
    return f"{order_number}-P{payment_id}"


def amounts(order: Order) -> messages.Amounts:
    return messages.Amounts(
        currency=order.currency,
        total_gross=order.total,
        total_net=order.total - order.vat_total,
        shipping_gross=order.shipping_gross,
        shipping_net=order.shipping,
        discount_gross=order.discount_gross,
        discount_net=order.discount,
    )


def reserve_request(guarantee: Guarantee, today: date) -> messages.ReserveRequest:
    payment = guarantee.payment
    order = payment.order
    billing = order.billing_address
    shipping = order.shipping_address
    buyer_user = order.buyer.user
    # The Debtor Data the buyer gave at checkout (DebtorDataForm's fields).
    debtor_data = payment.method_data
    # Every step runs by itself as its own call, so reserve asks for no automation.
    return messages.ReserveRequest(
        order_id=guarantee.order_id,
        amounts=amounts(order),
        debtor=messages.Debtor(
            company_name=billing["organization"] or order.customer.name,
            vat_id=order.customer.vat_id,
            email=debtor_data.get("debtor_email") or buyer_user.email,
            legal_form=debtor_data.get("legal_form", ""),
            first_name=billing["first_name"] or buyer_user.first_name,
            last_name=billing["last_name"] or buyer_user.last_name,
            address=_address(billing),
            ip_address=order.buyer_ip or UNKNOWN_IP,
            host_name=host_name_of(order.buyer_ip),
        ),
        articles=tuple(
            messages.Article(
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                unit_price_net=line.unit_price,
                unit_price_gross=(line.unit_price * (1 + line.vat_rate)).quantize(
                    CENT, ROUND_HALF_UP
                ),
                vat_rate=line.vat_rate,
            )
            for line in order.lines.all()
        ),
        shipping_address=None if _same_place(billing, shipping) else _address(shipping),
    )


def capture_request(guarantee: Guarantee, today: date) -> messages.CaptureRequest:
    return messages.CaptureRequest(
        order_id=guarantee.order_id, amounts=amounts(guarantee.payment.order)
    )


def activate_request(guarantee: Guarantee, today: date) -> messages.ActivateRequest:
    """Invoice today; delivery on the date ops gave, or today + the Shipping Duration."""
    integration = guarantee.integration
    order = guarantee.payment.order
    delivery = guarantee.delivery_date or today + timedelta(days=integration.shipping_duration)
    return messages.ActivateRequest(
        order_id=guarantee.order_id,
        amounts=amounts(order),
        invoice=messages.Invoice(
            invoice_id=order.number,
            invoice_date=today,
            payment_terms_days=integration.invoice_due_period,
            delivery_date=delivery,
        ),
    )


def cancel_request(guarantee: Guarantee, today: date) -> messages.CancelRequest:
    return messages.CancelRequest(
        order_id=guarantee.order_id,
        amounts=amounts(guarantee.payment.order),
        ref_no=guarantee.ref_no,
    )


def apply_transaction_request(
    guarantee: Guarantee, today: date
) -> messages.ApplyTransactionRequest:
    """The buyer paid the whole invoice today (ours: ops apply it when the money is in)."""
    order = guarantee.payment.order
    return messages.ApplyTransactionRequest(
        order_id=guarantee.order_id,
        ref_no=guarantee.ref_no,
        invoice_id=order.number,
        currency=order.currency,
        amount=order.total,
        paid_on=today,
    )


def check_status_request(guarantee: Guarantee, today: date) -> messages.CheckStatusRequest:
    return messages.CheckStatusRequest(
        order_id=guarantee.order_id,
        amounts=amounts(guarantee.payment.order),
        ref_no=guarantee.ref_no,
    )


def host_name_of(ip: str | None) -> str:
    """The reverse DNS name of a public IP address; empty when it has none or takes too long."""
    try:
        if not ip or not ipaddress.ip_address(ip).is_global:
            return ""
    except ValueError:
        return ""
    lookup = _lookups.submit(socket.gethostbyaddr, ip)
    try:
        return lookup.result(timeout=HOST_NAME_LOOKUP_SECONDS)[0]
    except (OSError, LookupTimeout):
        return ""


def _address(snapshot: dict[str, str]) -> messages.Address:
    return messages.Address(
        street=snapshot["street"],
        postal_code=snapshot["postal_code"],
        city=snapshot["city"],
        country=snapshot["country"],
    )


def _same_place(billing: dict[str, str], shipping: dict[str, str]) -> bool:
    keys = ("organization", "street", "postal_code", "city", "country")
    return all(billing.get(k) == shipping.get(k) for k in keys)
