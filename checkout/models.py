"""Customers, catalog, cart and orders of the B2B storefront."""

import re
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from backoffice.money import format_money
from payment_rules import context

from . import vat
from .places import country_name
from .pricing import PricedLine, Totals, VatAmount, format_percent
from .validators import validate_currency, validate_xml_text

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The most of one product a cart line holds, however it is reached (adds, edits).
MAX_QUANTITY = 9999


class Customer(models.Model):
    """A buying company. With a billing address in the EU it must have a VAT ID."""

    name = models.CharField(_("name"), max_length=255, validators=[validate_xml_text])
    vat_id = models.CharField(
        _("VAT ID"),
        max_length=20,
        blank=True,
        db_index=True,
        validators=[validate_xml_text],
        help_text=_(
            "With the country prefix, e.g. DE136695976 (Greece: EL…, Northern Ireland: XI…, "
            "Switzerland: CHE…). Required when a billing address is in the EU; it may be "
            "another country's. Only customers with a VAT ID are offered InfinitePay."
        ),
    )
    discount_percent = models.DecimalField(
        _("discount percent"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("Agreed discount on the net price of every order, in percent."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.vat_id:
            try:
                self.vat_id = vat.normalize_vat_id(self.vat_id)
            except ValidationError as error:
                raise ValidationError({"vat_id": error}) from None
        if self.pk is None or self.vat_id:
            # Its addresses are checked with it (`CustomerAddress.clean`); with a VAT ID,
            # every billing address is fine.
            return
        for address in self.addresses.filter(is_billing=True):
            try:
                check_billing_vat_id(customer=self, country=address.country.code)
            except ValidationError as error:
                raise ValidationError({"vat_id": error}) from None

    def as_context(self) -> context.Customer:
        return context.Customer(name=self.name, vat_id=self.vat_id, id=self.pk)


def check_billing_vat_id(*, customer: Customer, country: str) -> None:
    """The EU rule: a company billed in the EU has a VAT ID.

    Of any country: companies buy for their branches abroad, so a German VAT ID on an
    Austrian billing address is fine.
    """
    if vat.is_in_eu(country) and not customer.vat_id:
        raise ValidationError(
            _("A billing address in the EU (%(country)s) needs the customer's VAT ID."),
            code="vat_id_required",
            params={"country": country_name(country)},
        )


class CustomerAddress(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="addresses", verbose_name=_("customer")
    )
    is_billing = models.BooleanField(_("billing"), default=True)
    is_shipping = models.BooleanField(_("shipping"), default=True)
    organization = models.CharField(
        _("organization"), max_length=255, validators=[validate_xml_text]
    )
    first_name = models.CharField(
        _("first name"), max_length=100, blank=True, validators=[validate_xml_text]
    )
    last_name = models.CharField(
        _("last name"), max_length=100, blank=True, validators=[validate_xml_text]
    )
    street = models.CharField(_("street"), max_length=255, validators=[validate_xml_text])
    postal_code = models.CharField(_("postal code"), max_length=20, validators=[validate_xml_text])
    city = models.CharField(_("city"), max_length=100, validators=[validate_xml_text])
    country = CountryField(_("country"))
    region = models.CharField(
        _("region"),
        max_length=10,
        blank=True,
        validators=[validate_xml_text],
        help_text=_("ISO 3166-2 code, e.g. DE-BY; may stay empty."),
    )

    class Meta:
        verbose_name = _("customer address")
        verbose_name_plural = _("customer addresses")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_billing=True) | models.Q(is_shipping=True),
                name="checkout_address_has_a_use",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.organization}, {self.street}, {self.postal_code} {self.city}, "
            f"{self.country.name}"
        )

    def clean(self) -> None:
        super().clean()
        if not (self.is_billing or self.is_shipping):
            raise ValidationError(_("An address is used for billing, shipping or both."))
        if self.region and not self.region.upper().startswith(f"{self.country}-"):
            raise ValidationError(
                {
                    "region": _("Use a code of %(country)s: it starts with %(prefix)s.")
                    % {"country": self.country.name, "prefix": f"{self.country.code}-"}
                }
            )
        customer = self._customer_as_entered()
        if self.is_billing and customer is not None and self.country:
            try:
                check_billing_vat_id(customer=customer, country=self.country.code)
            except ValidationError as error:
                raise ValidationError({"country": error}) from None

    def _customer_as_entered(self) -> Customer | None:
        """The address's customer, also one not saved yet: the admin creates a customer and
        its addresses in one form, and the inline addresses are checked against it first."""
        try:
            return self.customer
        except Customer.DoesNotExist:
            return None

    def snapshot(self) -> dict[str, str]:
        """The address as it is now, to be kept with an order whatever happens later."""
        return {
            "organization": self.organization,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "street": self.street,
            "postal_code": self.postal_code,
            "city": self.city,
            "country": self.country.code,
            "region": self.region.upper(),
        }


class Buyer(models.Model):
    """A user who buys for a customer company and sees that company's orders."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="buyer",
        verbose_name=_("user"),
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="buyers", verbose_name=_("customer")
    )

    class Meta:
        verbose_name = _("buyer")
        verbose_name_plural = _("buyers")

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.customer})"

    @property
    def email(self) -> str:
        return self.user.email


class Product(models.Model):  # type: ignore[django-manager-missing]  # modeltranslation
    sku = models.CharField(_("SKU"), max_length=64, unique=True, validators=[validate_xml_text])
    # Per language (django-modeltranslation: name_en, name_de; see translation.py).
    name = models.CharField(_("name"), max_length=255, validators=[validate_xml_text])
    unit_price = models.DecimalField(
        _("net unit price"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    vat_rate = models.DecimalField(
        _("VAT rate"),
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("0.99"))],
        help_text=_("As a fraction: 0.19 for 19 %."),
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default="EUR",
        validators=[validate_currency],
        help_text=_("ISO 4217, e.g. EUR."),
    )
    is_active = models.BooleanField(
        _("on sale"),
        default=True,
        help_text=_("Only products on sale are listed and can be bought."),
    )

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    @property
    def vat_percent(self) -> str:
        return format_percent(self.vat_rate)


class ShippingMethod(models.TextChoices):
    FLAT_RATE = "flat_rate", _("Flat rate")


def method_data_field() -> models.JSONField:
    """The data the payment method took from the buyer, as its integration type's form
    cleaned it; checkout keeps it and never reads inside."""
    return models.JSONField(
        _("payment method data"), default=dict, blank=True, encoder=DjangoJSONEncoder
    )


class Cart(models.Model):
    """A buyer's cart and checkout progress, kept in the database between visits."""

    buyer = models.OneToOneField(Buyer, on_delete=models.CASCADE, related_name="cart")
    billing_address = models.ForeignKey(
        CustomerAddress, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    shipping_address = models.ForeignKey(
        CustomerAddress, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    shipping_method = models.CharField(max_length=32, choices=ShippingMethod.choices, blank=True)
    payment_method = models.CharField(max_length=64, blank=True)
    method_data = method_data_field()
    # The idempotency token of the checkout form: a new one after each placed order, so a
    # double click or a refresh of "Place order" finds the order it already created.
    checkout_token = models.UUIDField(default=uuid.uuid4)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Cart of {self.buyer}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_QUANTITY)]
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="checkout_cart_product_once"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="checkout_cart_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__lte=MAX_QUANTITY),
                name="checkout_cart_quantity_capped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"

    def priced(self) -> PricedLine:
        return PricedLine(
            sku=self.product.sku,
            name=self.product.name,
            quantity=self.quantity,
            unit_net=self.product.unit_price,
            vat_rate=self.product.vat_rate,
        )


def money_field(label: "StrOrPromise") -> models.DecimalField:
    return models.DecimalField(label, max_digits=12, decimal_places=2)


ORDER_NUMBER = re.compile(r"ORD-\d{6,}", re.IGNORECASE)


def order_number_for(order_id: int) -> str:
    return f"ORD-{order_id:06d}"


def as_order_number(term: str) -> str | None:
    """The order number a search term is (any case, spaces around), or None."""
    term = term.strip()
    return term.upper() if ORDER_NUMBER.fullmatch(term) else None


class Order(models.Model):
    """A placed order: what was bought, where it goes, and what it costs, frozen."""

    number = models.CharField(_("number"), max_length=40, unique=True, editable=False)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer")
    )
    buyer = models.ForeignKey(
        Buyer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("buyer")
    )
    currency = models.CharField(_("currency"), max_length=3)
    billing_address = models.JSONField(_("billing address"))
    shipping_address = models.JSONField(_("shipping address"))
    shipping_method = models.CharField(
        _("shipping method"), max_length=32, choices=ShippingMethod.choices
    )
    subtotal = money_field(_("net"))
    discount = money_field(_("discount (net)"))
    discount_gross = money_field(_("discount (gross)"))
    shipping = money_field(_("shipping (net)"))
    shipping_gross = money_field(_("shipping (gross)"))
    shipping_vat_rate = models.DecimalField(_("shipping VAT rate"), max_digits=5, decimal_places=4)
    vat_total = money_field(_("VAT"))
    vat_breakdown = models.JSONField(
        _("VAT breakdown"), help_text=_("Taxable net and VAT per rate.")
    )
    total = money_field(_("gross"))
    buyer_ip = models.GenericIPAddressField(_("buyer's IP address"), null=True, blank=True)
    idempotency_key = models.UUIDField(_("idempotency key"), unique=True, editable=False)
    # The payment shown and followed; a later one replaces it (another method after a
    # decline). Kept on the order so that lists read it with a join, not per row.
    current_payment = models.OneToOneField(
        "Payment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("current payment"),
    )
    created_at = models.DateTimeField(_("placed at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number

    @property
    def totals(self) -> Totals:
        """The order's totals as they were priced at checkout."""
        vat = tuple(
            VatAmount(rate=Decimal(v["rate"]), taxable=Decimal(v["taxable"]), vat=Decimal(v["vat"]))
            for v in self.vat_breakdown
        )
        return Totals(
            subtotal=self.subtotal,
            discount=self.discount,
            discount_gross=self.discount_gross,
            shipping=self.shipping,
            shipping_gross=self.shipping_gross,
            shipping_vat_rate=self.shipping_vat_rate,
            vat=vat,
            vat_total=self.vat_total,
            total=self.total,
        )

    def billing_address_context(self) -> context.Address:
        return context.Address(**self.billing_address)

    def shipping_address_context(self) -> context.Address:
        return context.Address(**self.shipping_address)


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=255)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = money_field(_("net unit price"))
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=5, decimal_places=4)
    net = money_field(_("net"))
    vat = money_field(_("VAT"))
    gross = money_field(_("gross"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"

    @property
    def unit_net(self) -> Decimal:
        return self.unit_price

    @property
    def vat_percent(self) -> str:
        return format_percent(self.vat_rate)


class Payment(models.Model):
    """One attempt to pay an order with one payment method.

    Its integration type keeps `status` up to date (through
    `checkout.services.set_payment_status`), so lists never ask the provider.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending payment")
        PAID_IN_FULL = "paid_in_full", _("Paid in full")
        DECLINED = "declined", _("Payment declined")
        CANCELED = "canceled", _("Canceled")

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="payments", verbose_name=_("order")
    )
    method = models.CharField(
        _("payment method"),
        max_length=64,
        help_text=_("The method identifier, e.g. infinitepay_3."),
    )
    integration = models.ForeignKey(
        "integrations.Integration",
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("integration"),
    )
    amount = money_field(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    method_data = method_data_field()
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        # Shown beside the payment on its order's page: the amount in the reader's format.
        return f"{self.method} · {format_money(self.amount, self.currency)}"
