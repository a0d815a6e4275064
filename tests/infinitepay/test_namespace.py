"""The product takes the contract from the endpoint's WSDL: the same orders go the whole way
whatever target namespace the sandbox serves it under, with nothing else changed.
"""

import pytest
from lxml import etree

from infinitepay import operations
from infinitepay.contract import forget_contracts
from infinitepay.models import Guarantee
from infinitepay.operations import Operation
from infinitepay.states import State

pytestmark = pytest.mark.django_db

OTHER_NAMESPACE = "https://guarantees.example.org/ws/InfinitePayAPI/v2"


@pytest.fixture(params=[None, OTHER_NAMESPACE], ids=["default namespace", "another namespace"])
def namespace(request, sandbox):
    forget_contracts()  # each endpoint's WSDL is loaded once per process: load it again
    if request.param:
        sandbox.set_namespace(request.param)
    yield sandbox.namespace()
    forget_contracts()


def act(guarantee: Guarantee, operation: Operation, capture, **options) -> Guarantee:
    with capture(execute=True):
        report = operations.apply_to_guarantees(
            guarantee_ids=[guarantee.pk], operation=operation, **options
        )
    assert report.queued == [guarantee.pk], report.skipped
    return Guarantee.objects.get(pk=guarantee.pk)


def test_orders_go_every_step_in_the_namespace_the_wsdl_states(
    namespace, place, infinitepay, sandbox, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    infinitepay.auto_capture = infinitepay.auto_activation = True
    infinitepay.save()
    guarantee = place(infinitepay)  # Reserve, Capture, Activate by themselves
    assert guarantee.state == State.ACTIVATED

    guarantee = act(guarantee, Operation.CHECK_STATUS, capture)
    assert guarantee.check_status_note == "Check status: InfinitePay holds the order"
    assert guarantee.check_status_detail.startswith("STATUS '1', REF_NO ")
    guarantee = act(guarantee, Operation.APPLY_TRANSACTION, capture)
    assert guarantee.state == State.SETTLED
    assert sandbox.order(guarantee.order_id)["state"] == "SETTLED"

    infinitepay.auto_capture = infinitepay.auto_activation = False
    infinitepay.save()
    second = place(infinitepay)
    assert second.state == State.RESERVED
    second = act(second, Operation.CANCEL, capture)
    assert second.state == State.CANCELED
    assert sandbox.order(second.order_id)["state"] == "CANCELED"

    steps = [
        (call.operation, call.outcome, f"{{{namespace}}}" in _qualified(call.request_xml))
        for call in guarantee.api_calls.order_by("pk")
    ]
    assert steps == [
        ("reserveOrder", "approved", True),
        ("captureOrder", "approved", True),
        ("activateOrder", "approved", True),
        ("checkStatusOrder", "approved", True),
        ("applyTransactionOnActivatedOrder", "approved", True),
    ]


def _qualified(xml: str) -> str:
    """The body element's Clark name, for comparing namespaces."""
    body = etree.fromstring(xml.encode()).find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    return etree.QName(body[0]).text
