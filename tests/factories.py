"""factory_boy factories shared by the tests of every app."""

import factory
from django.contrib.auth import get_user_model

from infinitepay.models import InfinitePayIntegration
from payment_term.models import PaymentTermIntegration


class StaffUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True
    password = factory.django.Password("correct-horse-battery")


class InfinitePayIntegrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InfinitePayIntegration

    name = factory.Sequence(lambda n: f"InfinitePay {n}")
    label_en = "Invoice, guaranteed by InfinitePay"
    short_label_en = "InfinitePay"
    client_reference = "DEMO-CLIENT"
    username = "demo"
    password = "demo-password"
    secret = "demo-secret"
    test_mode = True
    default_owner = factory.SubFactory(StaffUserFactory)


class PaymentTermIntegrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentTermIntegration

    name = factory.Sequence(lambda n: f"Payment Term {n}")
    label_en = "Invoice (30 days net)"
    short_label_en = "Payment Term"
    default_owner = factory.SubFactory(StaffUserFactory)
