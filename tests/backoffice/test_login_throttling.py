"""Repeated wrong passwords lock a login for a while, on the back office's login and the shop's."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.urls import reverse

from backoffice.demo import DEMO_PASSWORD
from tests.checkout.factories import BuyerFactory
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed logins"


@dataclass(frozen=True)
class Login:
    url: str
    username: str
    password: str
    landing: str  # where a successful login goes

    def post(self, client, password: str, **extra):
        data = {"username": self.username, "password": password, "next": self.landing}
        return client.post(self.url, data, **extra)


@pytest.fixture(params=["back office", "shop"])
def login(request) -> Login:
    if request.param == "back office":
        user = StaffUserFactory(username="olga")
        return Login(reverse("admin:login"), user.username, "correct-horse-battery", "/admin/")
    buyer = BuyerFactory(user__username="erika")
    return Login(reverse("login"), buyer.user.username, DEMO_PASSWORD, "/orders/")


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_forty_wrong_passwords_lock_the_login_even_for_the_right_one(client, login):
    answers = [login.post(client, f"wrong-{n}") for n in range(40)]

    assert [a.status_code for a in answers[:4]] == [200] * 4
    assert all(LOCKED not in a.content.decode() for a in answers[:4])
    for answer in answers[4:]:
        assert answer.status_code == 429
        assert LOCKED in answer.content.decode()
        assert "locked for 15 minutes" in answer.content.decode()

    right = login.post(client, login.password)
    assert right.status_code == 429
    assert LOCKED in right.content.decode()
    assert not logged_in(client)


def test_the_lock_ends_after_its_time(client, login):
    for n in range(5):
        login.post(client, f"wrong-{n}")
    assert login.post(client, login.password).status_code == 429

    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))

    answer = login.post(client, login.password)
    assert answer.status_code == 302
    assert answer.url == login.landing
    assert logged_in(client)


def test_a_successful_login_clears_the_count(client, login):
    for n in range(4):
        login.post(client, f"wrong-{n}")
    assert login.post(client, login.password).status_code == 302
    client.logout()

    answers = [login.post(client, f"wrong-again-{n}") for n in range(4)]
    assert [a.status_code for a in answers] == [200] * 4
    assert login.post(client, login.password).status_code == 302


def test_the_lock_holds_one_address_only(client, login):
    for n in range(5):
        login.post(client, f"wrong-{n}")

    elsewhere = login.post(client, login.password, REMOTE_ADDR="10.1.2.3")
    assert elsewhere.status_code == 302
    assert logged_in(client)


def test_a_locked_login_says_so_in_the_readers_language(client, login):
    for n in range(5):
        login.post(client, f"wrong-{n}", HTTP_ACCEPT_LANGUAGE="de")

    answer = login.post(client, login.password, HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert "Zu viele fehlgeschlagene Anmeldungen" in answer
    assert "für 15 Minuten gesperrt, auch mit dem richtigen Passwort" in answer
