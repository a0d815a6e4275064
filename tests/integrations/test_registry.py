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


class Offline(registry.IntegrationType):
    """A type with only what every type must say: the base class's defaults for the rest."""

    key = "offline"
    name = "Offline"
    model = Integration

    def is_applicable(self, integration, context) -> bool:
        return True

    def start(self, payment) -> None:
        return None

    def describe_status(self, payment) -> str:
        return "Pending payment"


def test_registering_a_different_type_under_a_taken_key_fails():
    class Impostor(Offline):
        key = "infinitepay"

    with pytest.raises(ValueError, match="registered already"):
        registry.register(Impostor())


def test_only_an_integration_type_with_a_key_and_a_name_can_be_registered():
    class Plain:
        key = "plain"
        name = "Plain"

    with pytest.raises(TypeError, match="not an IntegrationType"):
        registry.register(Plain())

    class Nameless(Offline):
        key = ""

    with pytest.raises(ValueError, match="needs a key and a name"):
        registry.register(Nameless())


def test_a_type_must_say_how_it_is_offered_started_and_described():
    class Incomplete(registry.IntegrationType):
        key = "incomplete"
        name = "Incomplete"
        model = Integration

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()


def test_what_a_type_may_leave_out_has_a_default():
    offline = Offline()
    integration = Integration(name="Cash on delivery")

    assert offline.method_form_class is None and offline.checkout_form() is None
    assert offline.clean_method_data({"anything": "given"}) == {}
    assert offline.describe_method_data({"anything": "given"}) == []
    connected, message = offline.check_connection(integration)
    assert connected is None
    assert str(message) == "Cash on delivery: makes no provider calls."
    assert offline.health([1, 2]) == {}
    assert offline.admin_payment_template == ""


def test_the_registry_forgets_a_type_it_is_told_to():
    offline = Offline()
    registry.register(offline)
    try:
        assert registry.get_method_type("offline_7") is offline
    finally:
        registry.unregister("offline")
    with pytest.raises(registry.UnknownIntegrationType):
        registry.get_type("offline")
    with pytest.raises(registry.UnknownIntegrationType):
        registry.unregister("offline")
