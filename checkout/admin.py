"""Back office for the storefront: customers, products, and orders (read-only)."""

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from modeltranslation.admin import TranslationAdmin

from backoffice.list_search import LateRowPaginator, search_orders
from backoffice.money import format_money
from backoffice.read_only_admin import ReadOnlyAdmin
from integrations.models import Integration

from . import selectors
from .forms import ProductForm
from .models import (
    Buyer,
    Customer,
    CustomerAddress,
    Order,
    OrderLine,
    Payment,
    Product,
)
from .places import place


class CustomerAddressInline(admin.StackedInline):
    """The addresses, entered with the customer: each billing address in the EU is checked
    against the VAT ID in the same form (`CustomerAddress.clean`), on create too."""

    model = CustomerAddress
    extra = 0
    fields = [
        ("is_billing", "is_shipping"),
        "organization",
        ("first_name", "last_name"),
        "street",
        ("postal_code", "city"),
        ("country", "region"),
    ]


class BuyerInline(admin.TabularInline):
    model = Buyer
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "vat_id", "discount_percent", "created_at"]
    search_fields = ["name", "vat_id"]
    inlines = [CustomerAddressInline, BuyerInline]


@admin.register(Product)
class ProductAdmin(TranslationAdmin):
    form = ProductForm
    list_display = ["sku", "name", "unit_price", "vat_rate", "currency", "is_active"]
    list_filter = ["is_active", "currency", "vat_rate"]
    search_fields = ["sku", "name"]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def _label(model: type[models.Model], field: str) -> Any:
    """A field's own name (translated as the model's), for a column that shows it formatted."""
    model_field = model._meta.get_field(field)
    assert isinstance(model_field, models.Field)
    return model_field.verbose_name


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    # Money in the reader's format ("1.197,02 €"), the rate as a percentage: each shown by a
    # method, since a model field's own name would show its bare value ("1197,02", "0,1900").
    fields = readonly_fields = [  # type: ignore[assignment]  # a list of names is a fieldset
        "sku",
        "name",
        "quantity",
        "unit_price_amount",
        "vat_rate_percent",
        "net_amount",
        "vat_amount",
        "gross_amount",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        # Each amount is written in its order's currency: the order comes with its lines.
        return super().get_queryset(request).select_related("order")

    @admin.display(description=_label(OrderLine, "unit_price"))
    def unit_price_amount(self, line: OrderLine) -> str:
        return format_money(line.unit_price, line.order.currency)

    @admin.display(description=_label(OrderLine, "vat_rate"))
    def vat_rate_percent(self, line: OrderLine) -> str:
        return f"{line.vat_percent} %"

    @admin.display(description=_label(OrderLine, "net"))
    def net_amount(self, line: OrderLine) -> str:
        return format_money(line.net, line.order.currency)

    @admin.display(description=_label(OrderLine, "vat"))
    def vat_amount(self, line: OrderLine) -> str:
        return format_money(line.vat, line.order.currency)

    @admin.display(description=_label(OrderLine, "gross"))
    def gross_amount(self, line: OrderLine) -> str:
        return format_money(line.gross, line.order.currency)


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = readonly_fields = [  # type: ignore[assignment]  # a list of names is a fieldset
        "created_at",
        "method",
        "integration",
        "payment_amount",
        "status",
        "method_details",
    ]

    @admin.display(description=_label(Payment, "amount"))
    def payment_amount(self, payment: Payment) -> str:
        return format_money(payment.amount, payment.currency)

    @admin.display(description=gettext_lazy("method data"))
    def method_details(self, payment: Payment) -> str:
        """What the buyer gave for the payment method, in its integration type's words."""
        lines = selectors.describe_method_data(
            method=payment.method, method_data=payment.method_data
        )
        return format_html_join("", "<div>{}: {}</div>", lines) or "—"


class PaymentStatusFilter(admin.SimpleListFilter):
    title = gettext_lazy("payment status")
    parameter_name = "payment_status"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [(value, str(label)) for value, label in Payment.Status.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        if self.value():
            return queryset.filter(current_payment__status=self.value())
        return queryset


class PaymentMethodFilter(admin.SimpleListFilter):
    title = gettext_lazy("payment method")
    parameter_name = "payment_method"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [(str(i.pk), i.name) for i in Integration.objects.all()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        if chosen := self.value():
            return queryset.filter(current_payment__integration_id=chosen)
        return queryset


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    """Orders are placed by buyers and never edited here: the list and detail only read."""

    # Five columns beside the filters fit a 1280-pixel screen.
    list_display = ["number", "customer", "amount", "payment", "placed"]
    list_filter = [
        PaymentStatusFilter,
        PaymentMethodFilter,
        "currency",
        "created_at",
    ]
    search_fields = [
        "number",
        "customer__name",
        "customer__vat_id",
        "buyer__user__username",
        "buyer__user__email",
    ]
    search_help_text = gettext_lazy(
        "Order number, the company's VAT ID or name, or the buyer's user name or e-mail."
    )
    # "N of 100,000 selected" would cost a second count of the whole table on every
    # filtered or searched page.
    show_full_result_count = False
    # A page deep in the list reads its ids from the ordering's index first.
    paginator = LateRowPaginator
    date_hierarchy = "created_at"
    # One join for every column: the list runs the same queries for 1 row or 100.
    list_select_related = ["customer", "current_payment__integration"]
    inlines = [OrderLineInline, PaymentInline]
    fieldsets = [
        (None, {"fields": ["number", "created_at", "customer", "buyer", "buyer_ip"]}),
        (gettext_lazy("Addresses"), {"fields": ["billing", "shipping_to", "shipping_method"]}),
        (
            gettext_lazy("Totals"),
            {
                "fields": [
                    "currency",
                    "net_amount",
                    "discount_amount",
                    "shipping_amount",
                    "vat_per_rate",
                    "vat_amount",
                    "gross_amount",
                ]
            },
        ),
        (gettext_lazy("Payment"), {"fields": ["payment_method", "payment_status"]}),
    ]
    readonly_fields = [
        "number",
        "created_at",
        "customer",
        "buyer",
        "buyer_ip",
        "billing",
        "shipping_to",
        "shipping_method",
        "currency",
        "net_amount",
        "discount_amount",
        "shipping_amount",
        "vat_per_rate",
        "vat_amount",
        "gross_amount",
        "payment_method",
        "payment_status",
    ]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        """Each kind of term by its own index, never by scanning every order."""
        term = search_term.strip()
        buyers = Buyer.objects.filter(Q(user__username=term) | Q(user__email__iexact=term))
        return search_orders(queryset, term, buyers=buyers)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Order | None = None,
    ) -> HttpResponse:
        if obj is not None:
            context["payment_details"] = payment_details(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description=gettext_lazy("total"), ordering="total")
    def amount(self, order: Order) -> str:
        return format_money(order.total, order.currency)

    # The totals in the reader's format of money, each under its field's own name.
    @admin.display(description=_label(Order, "subtotal"))
    def net_amount(self, order: Order) -> str:
        return format_money(order.subtotal, order.currency)

    @admin.display(description=_label(Order, "discount"))
    def discount_amount(self, order: Order) -> str:
        return format_money(order.discount, order.currency)

    @admin.display(description=_label(Order, "shipping"))
    def shipping_amount(self, order: Order) -> str:
        return format_money(order.shipping, order.currency)

    @admin.display(description=_label(Order, "vat_total"))
    def vat_amount(self, order: Order) -> str:
        return format_money(order.vat_total, order.currency)

    @admin.display(description=_label(Order, "total"))
    def gross_amount(self, order: Order) -> str:
        return format_money(order.total, order.currency)

    @admin.display(description=gettext_lazy("payment"), ordering="current_payment__status")
    def payment(self, order: Order) -> str:
        """The current payment's method and status, e.g. "InfinitePay · Paid in full"."""
        payment = order.current_payment
        if payment is None:
            return "—"
        return f"{payment.integration.short_label} · {payment.get_status_display()}"

    @admin.display(description=gettext_lazy("placed"), ordering="created_at")
    def placed(self, order: Order) -> str:
        return date_format(timezone.localtime(order.created_at), "SHORT_DATETIME_FORMAT")

    @admin.display(
        description=gettext_lazy("payment method"),
        ordering="current_payment__integration__name",
    )
    def payment_method(self, order: Order) -> str:
        payment = order.current_payment
        return payment.integration.short_label if payment else "—"

    @admin.display(description=gettext_lazy("payment status"), ordering="current_payment__status")
    def payment_status(self, order: Order) -> str:
        payment = order.current_payment
        return payment.get_status_display() if payment else "—"

    @admin.display(description=gettext_lazy("billing address"))
    def billing(self, order: Order) -> str:
        return _address_html(order.billing_address)

    @admin.display(description=gettext_lazy("shipping address"))
    def shipping_to(self, order: Order) -> str:
        return _address_html(order.shipping_address)

    @admin.display(description=gettext_lazy("VAT per rate"))
    def vat_per_rate(self, order: Order) -> str:
        return format_html_join(
            "",
            "<div>{}</div>",
            (
                (
                    _("%(percent)s %%: %(vat)s on %(taxable)s")
                    % {
                        "percent": v.percent,
                        "vat": format_money(v.vat, order.currency),
                        "taxable": format_money(v.taxable, order.currency),
                    },
                )
                for v in order.totals.vat
            ),
        )


def payment_details(order: Order) -> list[dict]:
    """Each payment with the template its integration type shows it with, if it has one.

    A type that calls a provider names an `admin_payment_template` (reading its own data
    through the payment's reverse relations), so this app never imports the provider's.
    """
    details = []
    for payment in order.payments.select_related("integration"):
        template = payment.integration.integration_type.admin_payment_template
        if template:
            details.append({"payment": payment, "template": template})
    return details


def _address_html(address: dict[str, str]) -> str:
    name = f"{address.get('first_name', '')} {address.get('last_name', '')}".strip()
    parts = [
        address["organization"],
        name,
        address["street"],
        f"{address['postal_code']} {address['city']}",
        place(address["country"], address.get("region", "")),
    ]
    return format_html_join("", "{}<br>", ((p,) for p in parts if p)) or format_html("")
