"""Check connection with what the InfinitePay form holds, before anything is saved."""

import pytest
from django.urls import reverse

from infinitepay.client import close_pooled_clients
from infinitepay.models import InfinitePayIntegration
from sandbox.accounts import (
    SANDBOX_CLIENT_REFERENCE,
    SANDBOX_PASSWORD,
    SANDBOX_SECRET,
    SANDBOX_USERNAME,
)
from tests.factories import InfinitePayIntegrationFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:infinitepay_infinitepayintegration_add")
CHECK_NEW = reverse("admin:infinitepay_infinitepayintegration_check_connection")
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture(autouse=True)
def fresh_connections():
    yield
    close_pooled_clients()


@pytest.fixture
def form_data(admin_user):
    """The InfinitePay form filled in for the sandbox, as an admin posts it."""
    return {
        "name": "EU shop",
        "label_en": "Invoice, guaranteed by InfinitePay",
        "label_de": "",
        "short_label_en": "InfinitePay",
        "short_label_de": "",
        "client_reference": SANDBOX_CLIENT_REFERENCE,
        "username": SANDBOX_USERNAME,
        "password": SANDBOX_PASSWORD,
        "secret": SANDBOX_SECRET,
        "test_mode": "on",
        "invoice_due_period": "30",
        "shipping_duration": "21",
        "status": "active",
        "default_owner": admin_user.pk,
    }


def test_a_new_integration_is_checked_before_it_is_saved(admin_client, sandbox, form_data):
    assert CHECK_NEW in admin_client.get(ADD).content.decode()  # the button's target

    answer = admin_client.post(CHECK_NEW, form_data, **JSON).json()

    assert answer == {"connected": True, "message": "EU shop: connected."}
    assert sandbox.calls()["operations"] == {"checkStatusOrder": 1}
    assert not InfinitePayIntegration.objects.exists()  # nothing saved


def test_what_is_typed_is_checked_not_what_is_saved(admin_client, sandbox, form_data):
    integration = InfinitePayIntegrationFactory(name="EU shop", password="wrong")
    check = reverse(
        "admin:infinitepay_infinitepayintegration_check_connection", args=[integration.pk]
    )

    answer = admin_client.post(check, {**form_data, "password": SANDBOX_PASSWORD}, **JSON).json()
    assert answer["connected"] is True
    integration.refresh_from_db()
    assert integration.password == "wrong"  # still the saved one

    # Left blank, the password is the saved one, as on Save.
    answer = admin_client.post(check, {**form_data, "password": ""}, **JSON).json()
    assert answer["connected"] is False
    assert answer["message"].startswith("EU shop: credentials rejected.")


def test_a_form_that_is_not_valid_is_not_checked(admin_client, sandbox, form_data):
    answer = admin_client.post(CHECK_NEW, {**form_data, "password": ""}, **JSON).json()

    assert answer["connected"] is False
    assert answer["message"].startswith("Not checked: ")
    assert "Password" in answer["message"]
    assert sandbox.calls()["total"] == 0


def test_without_javascript_the_answer_comes_on_a_page(admin_client, sandbox, form_data):
    response = admin_client.post(CHECK_NEW, form_data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "EU shop: connected." in page
    assert "Nothing was saved." in page


def test_staff_who_may_not_add_cannot_check(client, staff_user, sandbox, form_data):
    client.force_login(staff_user)

    assert client.post(CHECK_NEW, form_data, **JSON).status_code == 403
    assert sandbox.calls()["total"] == 0
