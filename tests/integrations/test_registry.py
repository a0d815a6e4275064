import pytest

from integrations import registry
from integrations.models import Integration
from tests.factories import InfinitePayIntegrationFactory, PaymentTermIntegrationFactory


def test_every_app_registers_its_type():
    assert [t.key for t in registry.all_types()] == ["infinitepay", "payment_term"]


def test_unknown_type_is_a_clear_error():
    with pytest.raises(registry.UnknownIntegrationType, match="nope"):
        registry.get_type("nope")


@pytest.mark.django_db
def test_method_identifier_is_type_and_id():
    integration = InfinitePayIntegrationFactory()
    assert integration.type == "infinitepay"
    assert integration.method_identifier == f"infinitepay_{integration.pk}"


@pytest.mark.django_db
def test_method_identifier_parses_back_to_the_integration():
    integration = PaymentTermIntegrationFactory()
    parsed = registry.MethodIdentifier.parse(integration.method_identifier)
    assert parsed == registry.MethodIdentifier("payment_term", integration.pk)
    base = Integration.objects.get(pk=parsed.integration_id)
    assert base.specific() == integration
    assert type(base.specific()).__name__ == "PaymentTermIntegration"


@pytest.mark.parametrize("identifier", ["infinitepay", "infinitepay_", "_12", "infinitepay_x1"])
def test_malformed_method_identifier_is_refused(identifier):
    with pytest.raises(registry.UnknownPaymentMethod):
        registry.MethodIdentifier.parse(identifier)


def test_registering_a_different_type_under_a_taken_key_fails():
    class Impostor:
        key = "infinitepay"
        name = "Impostor"

    with pytest.raises(ValueError, match="registered already"):
        registry.register(Impostor())
