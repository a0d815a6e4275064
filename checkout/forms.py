"""Forms of the storefront: cart quantities and the checkout steps."""

from django import forms
from django.core.exceptions import ValidationError

from payment_rules.methods import PaymentMethod

from .models import (
    MAX_EMAIL_LENGTH,
    MAX_QUANTITY,
    Customer,
    CustomerAddress,
    LegalForm,
    Product,
    ShippingMethod,
    check_billing_country,
)
from .validators import MAX_ID, validate_xml_text


class AddToCartForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, initial=1)


class CartQuantityForm(forms.Form):
    product = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)
    quantity = forms.IntegerField(
        min_value=0, max_value=MAX_QUANTITY, help_text="0 removes the product from the cart."
    )


class AddressForm(forms.Form):
    address = forms.ModelChoiceField(
        queryset=CustomerAddress.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"invalid_choice": "Choose one of your company's addresses."},
    )

    def __init__(self, *args, addresses, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["address"].queryset = addresses


class BillingAddressForm(AddressForm):
    def __init__(self, *args, customer: Customer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.customer = customer

    def clean_address(self) -> CustomerAddress:
        address = self.cleaned_data["address"]
        check_billing_country(customer=self.customer, country=address.country.code)
        return address


class ShippingMethodForm(forms.Form):
    shipping_method = forms.ChoiceField(choices=ShippingMethod.choices, widget=forms.RadioSelect)


class PaymentMethodForm(forms.Form):
    """The methods the rules offer, and the Debtor Data that some of them ask for."""

    method = forms.ChoiceField(
        widget=forms.RadioSelect,
        label="Payment method",
        error_messages={"invalid_choice": "Choose one of the payment methods offered."},
    )
    debtor_email = forms.EmailField(
        label="E-mail",
        required=False,
        max_length=MAX_EMAIL_LENGTH,
        validators=[validate_xml_text],
        help_text="Where the payment provider may reach you.",
    )
    legal_form = forms.ChoiceField(choices=[("", "---------"), *LegalForm.choices], required=False)

    def __init__(
        self, *args, methods: list[PaymentMethod], needs_debtor_data: set[str], **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = [(m.identifier, m.label) for m in methods]
        self.needs_debtor_data = needs_debtor_data

    def clean(self) -> dict:
        data = super().clean()
        if data.get("method") in self.needs_debtor_data:
            for field in ("debtor_email", "legal_form"):
                if not data.get(field) and field not in self.errors:
                    self.add_error(field, ValidationError("Required for this payment method."))
        return data


class PlaceOrderForm(forms.Form):
    """The review page's button: which checkout it places, and what the buyer saw there."""

    checkout_token = forms.UUIDField(widget=forms.HiddenInput)
    # The fingerprint of the reviewed checkout (selectors.checkout_fingerprint).
    fingerprint = forms.CharField(widget=forms.HiddenInput, max_length=64)


class ProductForm(forms.ModelForm):
    """A product as admins enter it: the currency code is taken in any case, kept in capitals."""

    class Meta:
        model = Product
        fields = ["sku", "name", "unit_price", "vat_rate", "currency", "is_active"]

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].upper()
