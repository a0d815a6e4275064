"""Answers in the contract's shape: `<operation>Response/RESPONSE`, elements in schema order.

Local elements are unqualified (the contract's elementFormDefault); only the wrapper is in
the target namespace served. An "odd" answer (the odd_answer fault) is the same answer with
unknown elements at several levels, its elements reordered, and GUAR_AMT as a decimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from .contract import Operation

APPROVED = "1"
DENIED = "0"


@dataclass(frozen=True)
class CorrectedDebtor:
    """DEBTOR_CORRECTED_DATA: the debtor's address as the sandbox stored it."""

    city: str
    country: str
    name: str
    street: str
    street_no: str
    postal_code: str
    debtor_id: int


@dataclass(frozen=True)
class Settlement:
    """What apply transaction booked."""

    accounting_date: datetime
    amount_cents: int
    currency: str
    type: str


@dataclass(frozen=True)
class Answer:
    """What one call decided, before it is put on the wire. Empty fields are left out."""

    status: str
    errors: tuple[tuple[str, str], ...] = ()
    order_id: str = ""
    state: str = ""  # ADD_INFO
    debtor_id: int | None = None
    guaranteed_cents: int | None = None
    ref_no: int | None = None
    corrected: CorrectedDebtor | None = None  # reserve only
    settlement: Settlement | None = None  # apply transaction only


# The operations whose RESPONSE repeats ORDER_ID, GUAR_AMT, REF_NO and STATUS.
_ECHOING = frozenset(
    {Operation.CAPTURE, Operation.ACTIVATE, Operation.CANCEL, Operation.CHECK_STATUS}
)


def render(
    operation: Operation, answer: Answer, *, namespace: str, request_id: int, odd: bool = False
) -> etree._Element:
    """The body element answering `operation`."""
    wrapper = etree.Element(f"{{{namespace}}}{operation.value}Response", nsmap={"ip": namespace})
    response = etree.SubElement(wrapper, "RESPONSE")
    if answer.errors:
        errors = etree.SubElement(response, "ERROR_DATA")
        for code, message in answer.errors:
            error = etree.SubElement(errors, "ERROR")
            _add(error, "ERROR_CD", code)
            _add(error, "ERROR_MSG", message)
    _add(response, "REQUEST_ID", str(request_id))
    data = etree.SubElement(response, "RESPONSE_DATA")
    _add(data, "ADD_INFO", answer.state)
    _add(data, "ORDER_ID", answer.order_id)
    _add(data, "DB_ID", answer.debtor_id)
    _add(data, "GUAR_AMT", answer.guaranteed_cents)
    _add(data, "REF_NO", answer.ref_no)
    _add(data, "STATUS", answer.status)

    if operation == Operation.RESERVE and answer.corrected is not None:
        corrected = etree.SubElement(response, "DEBTOR_CORRECTED_DATA")
        _add(corrected, "C_CITY", answer.corrected.city)
        _add(corrected, "C_COUNTRY", answer.corrected.country)
        _add(corrected, "C_NAME", answer.corrected.name)
        _add(corrected, "C_STREET", answer.corrected.street)
        _add(corrected, "C_STREET_NO", answer.corrected.street_no)
        _add(corrected, "C_ZIP", answer.corrected.postal_code)
        _add(corrected, "DB_ID", answer.corrected.debtor_id)
    elif operation in _ECHOING:
        _add(response, "ORDER_ID", answer.order_id)
        _add(response, "GUAR_AMT", answer.guaranteed_cents)
        _add(response, "REF_NO", answer.ref_no)
        _add(response, "STATUS", answer.status)
    elif operation == Operation.APPLY_TRANSACTION:
        settlement = answer.settlement
        if settlement is not None:
            _add(response, "ACCOUNTING_DT", _date_time(settlement.accounting_date))
        _add(response, "GUAR_AMT", answer.guaranteed_cents)
        _add(response, "REF_NO", answer.ref_no)
        if settlement is not None:
            _add(response, "TRS_AMT", settlement.amount_cents)
            _add(response, "TRS_CURRENCY", settlement.currency)
            _add(response, "TRS_TYPE", settlement.type)

    if odd:
        _make_odd(wrapper)
    return wrapper


def _make_odd(wrapper: etree._Element) -> None:
    """Unknown elements at every level, children in reverse order, GUAR_AMT as a decimal."""
    for element in wrapper.iter("GUAR_AMT"):
        element.text = f"{element.text}.0"
    etree.SubElement(wrapper, "SANDBOX_TRACE").text = "odd_answer"
    response = wrapper.find("RESPONSE")
    assert response is not None, "every answer has a RESPONSE"
    for element in [response, *response]:
        if len(element):
            children = list(element)
            element[:] = reversed(children)
            extra = etree.Element("SANDBOX_EXTRA")
            etree.SubElement(extra, "NOTE").text = f"unknown to the contract, in {element.tag}"
            element.insert(1, extra)
    # One in a foreign namespace too.
    etree.SubElement(
        response,
        "{urn:sandbox:extension}RISK_CLASS",
        nsmap={"x": "urn:sandbox:extension"},
    ).text = "B"


def _add(parent: etree._Element, name: str, value: str | int | None) -> None:
    if value is None or value == "":
        return
    etree.SubElement(parent, name).text = str(value)


def _date_time(instant: datetime) -> str:
    return instant.isoformat(timespec="seconds").replace("+00:00", "Z")
