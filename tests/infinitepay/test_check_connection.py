"""Check connection, from the Integrations list and from the InfinitePay form."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from infinitepay.client import InfinitePayClient, close_pooled_clients
from sandbox.faults import FaultKind
from tests.factories import InfinitePayIntegrationFactory, PaymentTermIntegrationFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:integrations_integration_changelist"


@pytest.fixture(autouse=True)
def fresh_connections():
    yield
    close_pooled_clients()


def check_from_list(admin_client, *integrations):
    response = admin_client.post(
        reverse(CHANGELIST),
        {"action": "check_connection", "_selected_action": [i.pk for i in integrations]},
    )
    assert response.status_code == 302
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_good_credentials_are_connected(admin_client, sandbox):
    integration = InfinitePayIntegrationFactory(name="EU shop")

    assert check_from_list(admin_client, integration) == ["EU shop: connected."]
    assert sandbox.calls()["operations"] == {"checkStatusOrder": 1}


def test_a_wrong_password_is_credentials_rejected(admin_client, sandbox):
    integration = InfinitePayIntegrationFactory(name="EU shop", password="wrong")

    [message] = check_from_list(admin_client, integration)

    assert message.startswith("EU shop: credentials rejected.")
    assert "wrong" not in message


def test_a_wrong_secret_is_credentials_rejected(admin_client, sandbox):
    integration = InfinitePayIntegrationFactory(name="EU shop", secret="not-the-secret")

    [message] = check_from_list(admin_client, integration)

    assert message.startswith("EU shop: credentials rejected.")


def test_a_dead_endpoint_is_unreachable(admin_client, settings):
    settings.INFINITEPAY_TEST_URL = "http://127.0.0.1:9/ws/InfinitePayAPI"
    integration = InfinitePayIntegrationFactory(name="EU shop")

    [message] = check_from_list(admin_client, integration)

    assert message.startswith("EU shop: unreachable (")


def test_a_missing_service_description_is_said_so(admin_client, sandbox):
    integration = InfinitePayIntegrationFactory(name="EU shop")
    sandbox.fail_next([FaultKind.WSDL_MISSING])  # ?wsdl answers 404
    check = reverse(
        "admin:infinitepay_infinitepayintegration_check_connection", args=[integration.pk]
    )

    response = admin_client.post(check)

    [message] = get_messages(response.wsgi_request)
    assert str(message).startswith("EU shop: InfinitePay's service description could not be read (")
    assert "404" in str(message) and message.level_tag == "error"
    assert sandbox.calls()["total"] == 0  # nothing was sent without the contract


def test_an_offline_type_has_nothing_to_check(admin_client):
    integration = PaymentTermIntegrationFactory(name="Invoice 30 days")

    assert check_from_list(admin_client, integration) == [
        "Invoice 30 days: makes no provider calls."
    ]


def test_the_change_form_has_a_check_connection_button(admin_client, sandbox):
    integration = InfinitePayIntegrationFactory(name="EU shop")
    change = reverse("admin:infinitepay_infinitepayintegration_change", args=[integration.pk])
    check = reverse(
        "admin:infinitepay_infinitepayintegration_check_connection", args=[integration.pk]
    )

    assert check in admin_client.get(change).content.decode()
    assert admin_client.get(check).status_code == 405
    response = admin_client.post(check)

    assert response.status_code == 302 and response.url == change
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["EU shop: connected."]


def test_staff_without_change_permission_cannot_check(client, staff_user, sandbox):
    integration = InfinitePayIntegrationFactory()
    client.force_login(staff_user)
    check = reverse(
        "admin:infinitepay_infinitepayintegration_check_connection", args=[integration.pk]
    )

    assert client.post(check).status_code == 403
    assert sandbox.calls()["total"] == 0


def test_test_mode_picks_the_endpoint_and_connections_are_pooled(settings):
    settings.INFINITEPAY_TEST_URL = "http://sandbox.example/ws"
    settings.INFINITEPAY_LIVE_URL = "https://live.example/ws"
    settings.INFINITEPAY_CONNECT_TIMEOUT = 3.0
    settings.INFINITEPAY_READ_TIMEOUT = 20.0
    test = InfinitePayIntegrationFactory(test_mode=True)
    other_test = InfinitePayIntegrationFactory(test_mode=True, username="another-user")
    live = InfinitePayIntegrationFactory(test_mode=False, debug_mode=True)

    test_client = InfinitePayClient.for_integration(test)
    live_client = InfinitePayClient.for_integration(live)

    assert (test_client.url, live_client.url) == (
        "http://sandbox.example/ws",
        "https://live.example/ws",
    )
    assert (test_client.debug, live_client.debug) == (False, True)
    # One pool per endpoint (and process): every test-mode integration shares the test one.
    assert InfinitePayClient.for_integration(test)._http is test_client._http
    assert InfinitePayClient.for_integration(other_test)._http is test_client._http
    assert live_client._http is not test_client._http
    timeout = test_client._http.timeout
    assert (timeout.connect, timeout.read) == (3.0, 20.0)
    assert repr(test_client.credentials).count("demo-password") == 0


def test_the_last_check_shows_in_the_health_column(admin_client, sandbox):
    good = InfinitePayIntegrationFactory(name="EU shop")
    rejected = InfinitePayIntegrationFactory(name="UK shop", password="wrong")
    never = InfinitePayIntegrationFactory(name="US shop")
    check_from_list(admin_client, good, rejected)

    html = admin_client.get(reverse(CHANGELIST)).content.decode()

    assert "Last check: connected 0\xa0minutes ago" in html
    assert "Last check failed 0\xa0minutes ago: credentials rejected." in html
    assert html.count("Last check") == 2  # not for the one never checked
    never.refresh_from_db()
    assert never.last_check_at is None


def test_checking_an_unsaved_form_keeps_no_result(admin_client, sandbox):
    integration = InfinitePayIntegrationFactory(name="EU shop")
    check = reverse(
        "admin:infinitepay_infinitepayintegration_check_connection", args=[integration.pk]
    )

    admin_client.post(check)  # the saved settings, from the form's button without the form
    integration.refresh_from_db()
    assert integration.last_check_ok is True
    checked_at = integration.last_check_at

    admin_client.post(check, {"name": "EU shop", "username": "someone-else"})  # unsaved
    integration.refresh_from_db()
    assert integration.last_check_at == checked_at
