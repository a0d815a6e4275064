"""Validation of the InfinitePay integration form, field by field, as admins meet it."""

import pytest
from django.utils import translation

from infinitepay.forms import InfinitePayIntegrationForm
from tests.factories import InfinitePayIntegrationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def valid_data(staff_user):
    return {
        "name": "InfinitePay EU",
        "label_en": "Invoice, guaranteed by InfinitePay",
        "label_de": "",
        "short_label_en": "InfinitePay",
        "short_label_de": "",
        "client_reference": "CLIENT-1",
        "username": "api-user",
        "password": "s3cret-pass",
        "secret": "hmac-secret",
        "auto_capture": "on",
        "auto_activation": "",
        "test_mode": "on",
        "debug_mode": "",
        "invoice_due_period": "30",
        "shipping_duration": "21",
        "status": "active",
        "default_owner": staff_user.pk,
    }


def errors_of(data):
    form = InfinitePayIntegrationForm(data=data)
    form.is_valid()
    return form.errors


def test_valid_form_saves_every_field(valid_data):
    form = InfinitePayIntegrationForm(data=valid_data)
    assert form.is_valid(), form.errors
    integration = form.save()
    integration.refresh_from_db()
    assert integration.client_reference == "CLIENT-1"
    assert integration.password == "s3cret-pass"
    assert integration.secret == "hmac-secret"
    assert integration.auto_capture is True
    assert integration.auto_activation is False
    assert integration.invoice_due_period == 30
    assert integration.shipping_duration == 21


@pytest.mark.parametrize(
    "field",
    ["name", "label_en", "short_label_en", "client_reference", "username", "password", "secret"],
)
def test_text_fields_are_required(valid_data, field):
    valid_data[field] = ""
    assert errors_of(valid_data)[field] == ["This field is required."]


@pytest.mark.parametrize(
    "field",
    ["name", "label_en", "short_label_en", "client_reference", "username", "password", "secret"],
)
def test_text_fields_hold_at_most_255_characters(valid_data, field):
    valid_data[field] = "x" * 256
    assert errors_of(valid_data)[field] == [
        "Ensure this value has at most 255 characters (it has 256)."
    ]


@pytest.mark.parametrize("field", ["client_reference", "username", "password", "secret"])
def test_credentials_hold_only_what_xml_can_carry(valid_data, field):
    valid_data[field] = "abc\x01def"
    assert errors_of(valid_data)[field] == [
        "Remove the control character U+0001 (at position 4): it cannot be sent to the payment "
        "provider."
    ]


@pytest.mark.parametrize("field", ["invoice_due_period", "shipping_duration"])
@pytest.mark.parametrize("value", ["0", "-3"])
def test_periods_must_be_positive(valid_data, field, value):
    valid_data[field] = value
    assert "Ensure this value is greater than or equal to 1." in errors_of(valid_data)[field]


@pytest.mark.parametrize("field", ["invoice_due_period", "shipping_duration"])
@pytest.mark.parametrize("value", ["366", "3000000"])
def test_periods_are_at_most_a_year(valid_data, field, value):
    valid_data[field] = value
    assert errors_of(valid_data)[field] == ["Ensure this value is less than or equal to 365."]


@pytest.mark.parametrize("field", ["invoice_due_period", "shipping_duration"])
def test_a_period_of_a_year_is_accepted(valid_data, field):
    valid_data[field] = "365"
    assert not errors_of(valid_data)


def test_periods_have_defaults():
    integration = InfinitePayIntegrationFactory.build()
    assert (integration.invoice_due_period, integration.shipping_duration) == (30, 21)


def test_auto_activation_without_auto_capture_is_refused(valid_data):
    valid_data["auto_capture"] = ""
    valid_data["auto_activation"] = "on"
    assert errors_of(valid_data)["auto_activation"] == [
        "Auto-Activation needs Auto-Capture: InfinitePay only activates an order "
        "that has been captured."
    ]


def test_auto_activation_with_auto_capture_is_accepted(valid_data):
    valid_data["auto_activation"] = "on"
    assert not errors_of(valid_data)


def test_secrets_are_never_shown_back():
    integration = InfinitePayIntegrationFactory(password="visible?", secret="hidden!")
    html = InfinitePayIntegrationForm(instance=integration).as_p()
    assert "visible?" not in html
    assert "hidden!" not in html


def test_the_form_says_a_password_and_a_secret_are_stored():
    integration = InfinitePayIntegrationFactory(password="old-pass", secret="old-secret")
    form = InfinitePayIntegrationForm(instance=integration)
    html = form.as_p()
    assert html.count("A password is stored; leave blank to keep it.") == 2  # help, placeholder
    assert html.count("A secret is stored; leave blank to keep it.") == 2


def test_a_new_integration_form_says_nothing_is_stored():
    html = InfinitePayIntegrationForm().as_p()
    assert "is stored" not in html
    assert "leave blank" not in html


def test_blank_secrets_on_edit_keep_the_stored_ones(valid_data):
    integration = InfinitePayIntegrationFactory(password="old-pass", secret="old-secret")
    valid_data.update(password="", secret="")
    form = InfinitePayIntegrationForm(data=valid_data, instance=integration)
    assert form.is_valid(), form.errors
    form.save()
    integration.refresh_from_db()
    assert (integration.password, integration.secret) == ("old-pass", "old-secret")


def test_new_secrets_on_edit_replace_the_stored_ones(valid_data):
    integration = InfinitePayIntegrationFactory(password="old-pass", secret="old-secret")
    valid_data.update(password="new-pass", secret="")
    form = InfinitePayIntegrationForm(data=valid_data, instance=integration)
    assert form.is_valid(), form.errors
    form.save()
    integration.refresh_from_db()
    assert (integration.password, integration.secret) == ("new-pass", "old-secret")


def test_labels_are_translated_with_fallback_to_english():
    translated = InfinitePayIntegrationFactory(
        label_en="Invoice", label_de="Rechnung", short_label_en="Inv", short_label_de=""
    )
    with translation.override("de"):
        assert translated.label == "Rechnung"
        assert translated.short_label == "Inv"  # no German text: English stands in
    with translation.override("en"):
        assert translated.label == "Invoice"
