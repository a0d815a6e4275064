"""Customers, catalog, cart and orders of the B2B storefront."""

import re
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django_countries.fields import CountryField

from payment_rules import context

from . import vat
from .pricing import PricedLine, Totals, VatAmount, format_percent
from .validators import validate_currency, validate_xml_text

# The most of one product a cart line holds, however it is reached (adds, edits).
MAX_QUANTITY = 9999


class Customer(models.Model):
    """A buying company. With a billing address in the EU it must have a VAT ID."""

    name = models.CharField(max_length=255, validators=[validate_xml_text])
    vat_id = models.CharField(
        "VAT ID",
        max_length=20,
        blank=True,
        db_index=True,
        validators=[validate_xml_text],
        help_text="With the country prefix, e.g. DE136695976 (Greece: EL…). "
        "Required when a billing address is in the EU.",
    )
    discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="Agreed discount on the net price of every order, in percent.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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
        if self.pk is None:
            return
        for address in self.addresses.filter(is_billing=True):
            try:
                check_billing_country(customer=self, country=address.country.code)
            except ValidationError as error:
                raise ValidationError({"vat_id": error}) from None

    def as_context(self) -> context.Customer:
        return context.Customer(name=self.name, vat_id=self.vat_id, id=self.pk)


def check_billing_country(*, customer: Customer, country: str) -> None:
    """The EU rule: a billing address in the EU needs the company's VAT ID from that country."""
    if not vat.is_in_eu(country):
        return
    if not customer.vat_id:
        raise ValidationError(
            f"A billing address in the EU ({country}) needs the customer's VAT ID.",
            code="vat_id_required",
        )
    if vat.vat_id_country(customer.vat_id) != country:
        raise ValidationError(
            f"A billing address in {country} needs a VAT ID from that country "
            f"(prefix {vat.vat_prefix(country)}); the customer's is {customer.vat_id}.",
            code="vat_id_country_mismatch",
        )


class CustomerAddress(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    is_billing = models.BooleanField("billing", default=True)
    is_shipping = models.BooleanField("shipping", default=True)
    organization = models.CharField(max_length=255, validators=[validate_xml_text])
    first_name = models.CharField(max_length=100, blank=True, validators=[validate_xml_text])
    last_name = models.CharField(max_length=100, blank=True, validators=[validate_xml_text])
    street = models.CharField(max_length=255, validators=[validate_xml_text])
    postal_code = models.CharField(max_length=20, validators=[validate_xml_text])
    city = models.CharField(max_length=100, validators=[validate_xml_text])
    country = CountryField()
    region = models.CharField(
        max_length=10,
        blank=True,
        validators=[validate_xml_text],
        help_text="ISO 3166-2 code, e.g. DE-BY; may stay empty.",
    )

    class Meta:
        verbose_name_plural = "customer addresses"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_billing=True) | models.Q(is_shipping=True),
                name="checkout_address_has_a_use",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization}, {self.street}, {self.postal_code} {self.city}, {self.country}"

    def clean(self) -> None:
        super().clean()
        if not (self.is_billing or self.is_shipping):
            raise ValidationError("An address is used for billing, shipping or both.")
        if self.region and not self.region.upper().startswith(f"{self.country}-"):
            raise ValidationError({"region": f"Use a code of {self.country}, e.g. DE-BY."})
        if self.is_billing and self.customer_id is not None and self.country:
            try:
                check_billing_country(customer=self.customer, country=self.country.code)
            except ValidationError as error:
                raise ValidationError({"country": error}) from None

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
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="buyer"
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="buyers")

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.customer})"

    @property
    def email(self) -> str:
        return self.user.email


class Product(models.Model):
    sku = models.CharField("SKU", max_length=64, unique=True, validators=[validate_xml_text])
    name = models.CharField(max_length=255, validators=[validate_xml_text])
    unit_price = models.DecimalField(
        "net unit price",
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    vat_rate = models.DecimalField(
        "VAT rate",
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("0.99"))],
        help_text="As a fraction: 0.19 for 19 %.",
    )
    currency = models.CharField(
        max_length=3,
        default="EUR",
        validators=[validate_currency],
        help_text="ISO 4217, e.g. EUR.",
    )
    is_active = models.BooleanField(
        "on sale", default=True, help_text="Only products on sale are listed and can be bought."
    )

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    @property
    def vat_percent(self) -> str:
        return format_percent(self.vat_rate)


class ShippingMethod(models.TextChoices):
    FLAT_RATE = "flat_rate", "Flat rate"


def method_data_field() -> models.JSONField:
    """The data the payment method took from the buyer, as its integration type's form
    cleaned it; checkout keeps it and never reads inside."""
    return models.JSONField(
        "payment method data", default=dict, blank=True, encoder=DjangoJSONEncoder
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


def money_field(label: str | None = None) -> models.DecimalField:
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

    number = models.CharField(max_length=40, unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="orders")
    currency = models.CharField(max_length=3)
    billing_address = models.JSONField()
    shipping_address = models.JSONField()
    shipping_method = models.CharField(max_length=32, choices=ShippingMethod.choices)
    subtotal = money_field("net")
    discount = money_field("discount (net)")
    discount_gross = money_field("discount (gross)")
    shipping = money_field("shipping (net)")
    shipping_gross = money_field("shipping (gross)")
    shipping_vat_rate = models.DecimalField(max_digits=5, decimal_places=4)
    vat_total = money_field("VAT")
    vat_breakdown = models.JSONField(help_text="Taxable net and VAT per rate.")
    total = money_field("gross")
    buyer_ip = models.GenericIPAddressField(null=True, blank=True)
    idempotency_key = models.UUIDField(unique=True, editable=False)
    # The payment shown and followed; a later one replaces it (another method after a
    # decline). Kept on the order so that lists read it with a join, not per row.
    current_payment = models.OneToOneField(
        "Payment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
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
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField("SKU", max_length=64)
    name = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()
    unit_price = money_field("net unit price")
    vat_rate = models.DecimalField("VAT rate", max_digits=5, decimal_places=4)
    net = money_field()
    vat = money_field("VAT")
    gross = money_field()

    class Meta:
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
        PENDING = "pending", "Pending payment"
        PAID_IN_FULL = "paid_in_full", "Paid in full"
        DECLINED = "declined", "Payment declined"
        CANCELED = "canceled", "Canceled"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(
        "payment method", max_length=64, help_text="The method identifier, e.g. infinitepay_3."
    )
    integration = models.ForeignKey(
        "integrations.Integration", on_delete=models.PROTECT, related_name="payments"
    )
    amount = money_field()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    method_data = method_data_field()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.method} for {self.order_id}: {self.amount} {self.currency}"
