"""The tolerant reader of requests: what a call asks, whatever its shape.

Elements are found by local name, in any order and in any namespace (or none); unknown ones
are ignored. An absent, empty or `xsi:nil` element reads as "". Whether a value is usable
is the service's question: what it cannot serve gets a business error, never a fault.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from .contract import XSI, Operation

_NIL = f"{{{XSI}}}nil"


class Block:
    """A request element read by local name; a missing or nil one is empty (falsy)."""

    def __init__(self, element: etree._Element | None) -> None:
        nil = element is not None and element.get(_NIL, "").strip() in {"true", "1"}
        self._element = None if nil else element

    def __bool__(self) -> bool:
        return self._element is not None

    def block(self, path: str) -> Block:
        element = self._element
        for name in path.split("/"):
            if element is None:
                break
            # A nil element has no children: the walk ends there, empty.
            element = next(_children(element, name), None)
        return Block(element)

    def blocks(self, name: str) -> list[Block]:
        if self._element is None:
            return []
        return [Block(child) for child in _children(self._element, name)]

    def text(self, path: str) -> str:
        element = self.block(path)._element
        return "" if element is None else (element.text or "").strip()


@dataclass(frozen=True)
class DebtorData:
    vat_id: str = ""
    company_name: str = ""
    email: str = ""
    street: str = ""
    street_no: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""


@dataclass(frozen=True)
class TransactionData:
    accounting_date: str = ""
    amount: str = ""
    currency: str = ""
    type: str = ""


@dataclass(frozen=True)
class Request:
    """One call as the sandbox understands it; "" where the caller sent nothing usable."""

    operation: Operation
    client_reference: str
    security_code: str
    order_id: str
    ref_no: str
    currency: str
    amount_gross: str
    amount_net: str
    auto_capture: bool
    auto_activate: bool
    invoice_id: str
    debtor: DebtorData
    transaction: TransactionData | None  # apply transaction's optional TRANSACTION_DATA


def read_request(operation: Operation, payload: etree._Element) -> Request:
    request = Block(payload).block("REQUEST")
    order = request.block("ORDER_DATA")
    debtor = request.block("DEBTOR_DATA")
    transaction = request.block("TRANSACTION_DATA")
    return Request(
        operation=operation,
        client_reference=request.text("CLIENT_DATA/CLIENT_REF"),
        security_code=request.text("CLIENT_DATA/SECURITY_CD"),
        order_id=order.text("ORDER_ID"),
        ref_no=order.text("REF_NO"),
        currency=order.text("TRS_CURRENCY").upper(),
        amount_gross=order.text("TRS_AMT_GROSS"),
        amount_net=order.text("TRS_AMT_NET"),
        auto_capture=_flag(order.text("AUTO_CAPTURE")),
        auto_activate=_flag(order.text("AUTO_ACTIVATE")),
        invoice_id=request.text("INVOICE_DATA/INVOICE_ID"),
        debtor=DebtorData(
            vat_id=debtor.text("COMPANY_DATA/COM_ID_VAT"),
            company_name=debtor.text("COMPANY_DATA/COMPANY_NAME"),
            email=debtor.text("BD_EMAIL"),
            street=debtor.text("BD_STREET"),
            street_no=debtor.text("BD_STREET_NR"),
            postal_code=debtor.text("BD_ZIP"),
            city=debtor.text("BD_CITY"),
            country=debtor.text("BD_COUNTRY"),
        ),
        transaction=TransactionData(
            accounting_date=transaction.text("ACCOUNTING_DT"),
            amount=transaction.text("TRS_AMT"),
            currency=transaction.text("TRS_CURRENCY").upper(),
            type=transaction.text("TRS_TYPE"),
        )
        if transaction
        else None,
    )


def _children(element: etree._Element, name: str):
    return (
        child
        for child in element
        if isinstance(child.tag, str) and etree.QName(child).localname == name
    )


def _flag(text: str) -> bool:
    return text.lower() in {"1", "true", "yes"}
