"""Forms of the storefront: cart quantities and the checkout steps."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from integrations import registry
from payment_rules.context import CheckoutContext
from payment_rules.methods import PaymentMethod

from .models import MAX_QUANTITY, CustomerAddress, Product, ShippingMethod
from .validators import MAX_ID


class AddToCartForm(forms.Form):
    quantity = forms.IntegerField(
        label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY, initial=1
    )


class CartQuantityForm(forms.Form):
    product = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=0,
        max_value=MAX_QUANTITY,
        help_text=_("0 removes the product from the cart."),
    )


class AddressForm(forms.Form):
    """One of the company's billing or shipping addresses (the service checks the rest)."""

    address = forms.ModelChoiceField(
        label=_("Address"),
        queryset=CustomerAddress.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": _("Choose one of your company's addresses."),
            "invalid_choice": _("Choose one of your company's addresses."),
        },
    )

    def __init__(self, *args, addresses, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        address = self.fields["address"]
        assert isinstance(address, forms.ModelChoiceField)
        address.queryset = addresses
        if not self.is_bound:
            # The only address is the one to use: shown chosen, one click to go on.
            only = list(addresses.values_list("pk", flat=True)[:2])
            if len(only) == 1:
                self.initial["address"] = only[0]


class ShippingMethodForm(forms.Form):
    shipping_method = forms.ChoiceField(
        label=_("Shipping method"), choices=ShippingMethod.choices, widget=forms.RadioSelect
    )


@dataclass(frozen=True)
class MethodDataSection:
    """One integration type's form on the payment page, and the offered methods it is for."""

    type_key: str
    title: str | Promise
    methods: list[str]  # the labels of the offered methods of this type
    form: forms.Form


class PaymentMethodForm(forms.Form):
    """The methods the rules offer, and the form of each offered type that takes data.

    Each type's form is its own (`IntegrationType.checkout_form`), prefixed with the type's
    key; only the chosen method's form is bound and checked, and what it cleaned is the
    method's data. Checkout names none of its fields.
    """

    method = forms.ChoiceField(
        widget=forms.RadioSelect,
        label=_("Payment method"),
        error_messages={
            "required": _("Choose a payment method."),
            "invalid_choice": _("Choose one of the payment methods offered."),
        },
    )

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        methods: list[PaymentMethod],
        context: CheckoutContext,
        chosen: str = "",
        method_data: Mapping[str, Any] | None = None,
    ) -> None:
        """`chosen` and `method_data`: what the buyer chose and gave before, shown again."""
        if not chosen and len(methods) == 1:
            # The only method is the one to use, as the only address is: one click to go on.
            chosen = methods[0].identifier
        super().__init__(data, initial={"method": chosen})
        field = self.fields["method"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(m.identifier, m.label) for m in methods]
        posted = _type_key(data.get("method", "")) if data is not None else ""
        given_for = _type_key(chosen)
        labels: dict[str, list[str]] = {}
        for method in methods:
            labels.setdefault(method.type_key, []).append(method.label)
        self.method_data_sections: list[MethodDataSection] = []
        for type_key, method_labels in labels.items():
            integration_type = registry.get_type(type_key)
            form = integration_type.checkout_form(
                data=data if type_key == posted else None,
                method_data=method_data if type_key == given_for else None,
                context=context,
                prefix=type_key,
            )
            if form is not None:
                # Its fields are needed only when its method is chosen: the browser must not
                # refuse to send the page for another method (the server checks the chosen one).
                form.use_required_attribute = False
                title = integration_type.method_form_title or integration_type.name
                self.method_data_sections.append(
                    MethodDataSection(type_key, title, method_labels, form)
                )

    @property
    def method_form(self) -> forms.Form | None:
        """The form of the chosen method's type; None when it takes no data (or none is chosen)."""
        if not self.is_bound or "method" in self.errors:
            return None
        chosen = _type_key(self.cleaned_data["method"])
        return next((s.form for s in self.method_data_sections if s.type_key == chosen), None)

    @property
    def method_data(self) -> dict[str, Any]:
        """What the chosen method's form cleaned: the data the method took."""
        form = self.method_form
        return dict(form.cleaned_data) if form is not None else {}

    def is_valid(self) -> bool:
        if not super().is_valid():
            return False
        form = self.method_form
        return form is None or form.is_valid()


def _type_key(method: str) -> str:
    try:
        return registry.MethodIdentifier.parse(method).type_key
    except registry.UnknownPaymentMethod:
        return ""


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
