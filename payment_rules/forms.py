"""Forms of the Payment Rules back office: destinations with postal codes, the simulator."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from . import services
from .context import Address, Buyer, CheckoutContext, Customer, LineItem
from .currencies import normalize_currency_code, validate_currency_code
from .models import RuleDestination, normalize_postal_code

_LIST_SEPARATORS = re.compile(r"[,;\n]+")


def split_list(value: str) -> list[str]:
    return [part.strip() for part in _LIST_SEPARATORS.split(value) if part.strip()]


class RuleDestinationForm(forms.ModelForm):
    """A destination row; its postal codes are typed as one list and stored one per row."""

    postal_codes = forms.CharField(
        label=_("Postal codes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 30}),
        help_text=_("Separated by commas or new lines. Empty means every postal code."),
    )

    class Meta:
        model = RuleDestination
        fields = ["country", "region", "postal_codes"]
        # A region is an ISO code of at most six characters ("DE-BY"): a field that size keeps
        # the destinations' table within the page, beside the German country names.
        widgets = {"region": forms.TextInput(attrs={"size": 8})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            codes = self.instance.postal_codes.values_list("postal_code", flat=True)
            self.initial["postal_codes"] = ", ".join(codes)

    def clean_postal_codes(self) -> list[str]:
        codes = [
            normalize_postal_code(code) for code in split_list(self.cleaned_data["postal_codes"])
        ]
        too_long = [code for code in codes if len(code) > 32]
        if too_long:
            raise ValidationError(
                gettext("Postal codes are at most 32 characters: %(codes)s")
                % {"codes": ", ".join(too_long)}
            )
        return codes

    def _save_m2m(self) -> None:
        # Called once the destination row exists, whether the admin saves at once or later.
        super()._save_m2m()  # type: ignore[misc]  # ModelForm's own, missing from the stubs
        services.set_postal_codes(
            destination=self.instance, postal_codes=self.cleaned_data.get("postal_codes", [])
        )


def _country_choices() -> list[tuple[str, str]]:
    # Called when a form is made: country names in the reader's language, in its order.
    return [("", gettext("— none —")), *countries]


class SimulationForm(forms.Form):
    """A checkout typed by an admin, to see which rules apply and why."""

    currency = forms.CharField(
        label=_("Currency"), max_length=3, initial="EUR", help_text=_("ISO 4217, e.g. EUR.")
    )
    billing_country = forms.ChoiceField(
        label=_("Billing country"),
        choices=_country_choices,
        required=False,
        help_text=_("None: a checkout without address."),
    )
    billing_region = forms.CharField(
        label=_("Billing region"), required=False, help_text=_("ISO 3166-2, e.g. DE-BY.")
    )
    billing_postal_code = forms.CharField(label=_("Billing postal code"), required=False)
    billing_city = forms.CharField(label=_("Billing city"), required=False)
    shipping_country = forms.ChoiceField(
        label=_("Shipping country"),
        choices=_country_choices,
        required=False,
        help_text=_("None: same as billing."),
    )
    shipping_region = forms.CharField(label=_("Shipping region"), required=False)
    shipping_postal_code = forms.CharField(label=_("Shipping postal code"), required=False)
    # Amounts are read and shown in the reader's language ("1197,02" in German): a number input
    # would drop a German decimal comma in some browsers and simulate a hundred times the total.
    subtotal = forms.DecimalField(
        label=_("Subtotal"), initial=Decimal("0"), decimal_places=2, max_digits=14, localize=True
    )
    total = forms.DecimalField(
        label=_("Total"), initial=Decimal("0"), decimal_places=2, max_digits=14, localize=True
    )
    line_items = forms.CharField(
        label=_("Line items"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
        help_text=_("One per line: SKU, quantity, unit price (net), VAT rate (e.g. 0.19)."),
    )
    customer_name = forms.CharField(label=_("Customer name"), required=False)
    customer_vat_id = forms.CharField(
        required=False, label=_("Customer VAT ID"), help_text=_("InfinitePay needs one.")
    )
    buyer_email = forms.EmailField(label=_("Buyer e-mail"), required=False)
    exclude = forms.CharField(
        label=_("Exclude"),
        required=False,
        help_text=_("Method identifiers to leave out, e.g. infinitepay_1 after a decline."),
    )

    def clean_currency(self) -> str:
        currency = normalize_currency_code(self.cleaned_data["currency"])
        validate_currency_code(currency)
        return currency

    def clean_line_items(self) -> tuple[LineItem, ...]:
        items = []
        for number, line in enumerate(self.cleaned_data["line_items"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split(",")]
            try:
                sku, quantity, unit_price, *rest = parts
                items.append(
                    LineItem(
                        sku=sku,
                        name=sku,
                        quantity=int(quantity),
                        unit_price=Decimal(unit_price),
                        vat_rate=Decimal(rest[0]) if rest else Decimal("0"),
                    )
                )
            except (ValueError, ArithmeticError):
                raise ValidationError(
                    gettext("Line %(number)s: write SKU, quantity, unit price[, VAT rate].")
                    % {"number": number}
                ) from None
        return tuple(items)

    def clean_exclude(self) -> list[str]:
        return split_list(self.cleaned_data["exclude"])

    def checkout_context(self) -> CheckoutContext:
        data = self.cleaned_data
        billing = _address(
            data["billing_country"],
            data["billing_region"],
            data["billing_postal_code"],
            data["billing_city"],
        )
        shipping = _address(
            data["shipping_country"], data["shipping_region"], data["shipping_postal_code"], ""
        )
        customer = None
        if data["customer_name"] or data["customer_vat_id"]:
            customer = Customer(name=data["customer_name"], vat_id=data["customer_vat_id"].strip())
        return CheckoutContext(
            currency=data["currency"],
            billing_address=billing,
            shipping_address=shipping or billing,
            subtotal=data["subtotal"],
            total=data["total"],
            line_items=data["line_items"],
            customer=customer,
            buyer=Buyer(email=data["buyer_email"]) if data["buyer_email"] else None,
        )


def _address(country: str, region: str, postal_code: str, city: str) -> Address | None:
    if not country:
        return None
    return Address(
        country=country, region=region.strip().upper(), postal_code=postal_code, city=city
    )
