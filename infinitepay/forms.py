from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from checkout.validators import validate_xml_text

from .messages import LEGAL_FORMS
from .models import SECRET_MAX_LENGTH, InfinitePayIntegration

SECRET_FIELDS = ("password", "secret")
# What each credential field says when one is stored; on add there is nothing to keep.
STORED_NOTES = {
    "password": _("A password is stored; leave blank to keep it."),
    "secret": _("A secret is stored; leave blank to keep it."),
}
# The longest e-mail address there can be (RFC 5321 path less its brackets).
MAX_EMAIL_LENGTH = 254


class DebtorDataForm(forms.Form):
    """The Debtor Data InfinitePay checks a buyer by, beyond the order: e-mail and legal form.

    The buyer gives it at checkout (the method's data, kept as the payment's `method_data`
    under these field names); ops correct it after a failed Reserve.
    """

    debtor_email = forms.EmailField(
        label=_("E-mail"),
        max_length=MAX_EMAIL_LENGTH,
        validators=[validate_xml_text],
        help_text=_("Where the payment provider may reach you."),
    )
    # InfinitePay's COM_OR_PER codes (sent as they are), shown by their label in the reader's
    # language; AG is chosen until the buyer picks another, as in Oro.
    legal_form = forms.ChoiceField(label=_("Legal form"), choices=LEGAL_FORMS, initial="ag")


class InfinitePayIntegrationForm(forms.ModelForm):
    """Credentials are write-only: never shown back, and blank on edit keeps them."""

    password = forms.CharField(
        max_length=SECRET_MAX_LENGTH,
        required=False,
        strip=False,
        validators=[validate_xml_text],
        widget=forms.PasswordInput(render_value=False),
        label=_("Password"),
        help_text=_("The API user's password. Stored encrypted."),
    )
    secret = forms.CharField(
        max_length=SECRET_MAX_LENGTH,
        required=False,
        strip=False,
        validators=[validate_xml_text],
        widget=forms.PasswordInput(render_value=False),
        label=_("Secret"),
        help_text=_("The shared secret for the security code (SECURITY_CD). Stored encrypted."),
    )

    class Meta:
        model = InfinitePayIntegration
        # Label and Short Label are edited per language (modeltranslation's columns).
        fields = [
            "name",
            "label_en",
            "label_de",
            "short_label_en",
            "short_label_de",
            "client_reference",
            "username",
            "password",
            "secret",
            "auto_capture",
            "auto_activation",
            "test_mode",
            "debug_mode",
            "invoice_due_period",
            "shipping_duration",
            "status",
            "default_owner",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._stored = {
            name: self.instance._meta.get_field(name).value_from_object(self.instance)
            for name in SECRET_FIELDS
        }
        creating = self.instance.pk is None
        for name in SECRET_FIELDS:
            self.fields[name].required = creating
            self.initial[name] = ""
            if self._stored[name]:
                field = self.fields[name]
                field.help_text = format_lazy("{} {}", field.help_text, STORED_NOTES[name])
                field.widget.attrs["placeholder"] = STORED_NOTES[name]

    def _clean_secret_field(self, name: str) -> str:
        value = self.cleaned_data.get(name, "")
        return value if value else self._stored[name]

    def clean_password(self) -> str:
        return self._clean_secret_field("password")

    def clean_secret(self) -> str:
        return self._clean_secret_field("secret")
