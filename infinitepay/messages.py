"""Typed values that cross the InfinitePay boundary: what we ask, what comes back.

They hold domain values (`Decimal` money, `date`, alpha-2 countries, booleans); turning them
into the wire's cents, `YYYYMMDD` dates, alpha-3 countries and `"0"`/`"1"` flags is the job of
`infinitepay.wire` alone. The pipeline maps its orders to these values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from django.utils.translation import pgettext_lazy


class Operation(StrEnum):
    """The operations of the service that the product calls, by their SOAP operation names."""

    RESERVE = "reserveOrder"
    CAPTURE = "captureOrder"
    ACTIVATE = "activateOrder"
    CANCEL = "cancelOrder"
    CHECK_STATUS = "checkStatusOrder"
    APPLY_TRANSACTION = "applyTransactionOnActivatedOrder"


# Legal forms InfinitePay knows (COM_OR_PER): the code is what goes on the wire, the same in
# every language. The labels are InfinitePay's own German ones as OroCommerce offers them,
# which the German catalogue keeps word for word; English readers get them explained.
# ("Sonst. KapitalGes" maps to the code of "other partnership": that is the code the public
# record shows.)
LEGAL_FORMS: tuple[tuple[str, Any], ...] = (
    ("ag", pgettext_lazy("legal form", "AG (stock corporation)")),
    ("eg", pgettext_lazy("legal form", "eG (registered cooperative)")),
    ("ek", pgettext_lazy("legal form", "EK (registered merchant)")),
    ("ev", pgettext_lazy("legal form", "e.V. (registered association)")),
    ("freelancer", pgettext_lazy("legal form", "Freelancer")),
    ("gbr", pgettext_lazy("legal form", "GbR (civil-law partnership)")),
    ("gmbh", pgettext_lazy("legal form", "GmbH (limited liability company)")),
    ("gmbh_ig", pgettext_lazy("legal form", "GmbH iG (limited company in formation)")),
    ("gmbh_co_kg", pgettext_lazy("legal form", "GmbH & Co. KG (limited partnership)")),
    ("kg", pgettext_lazy("legal form", "KG (limited partnership)")),
    ("kgaa", pgettext_lazy("legal form", "KgaA (partnership limited by shares)")),
    ("ltd", pgettext_lazy("legal form", "Ltd (private limited company)")),
    ("ltd_co_kg", pgettext_lazy("legal form", "Ltd co KG (limited partnership)")),
    ("ohg", pgettext_lazy("legal form", "OHG (general partnership)")),
    ("offtl_einrichtung", pgettext_lazy("legal form", "Public institution")),
    ("sonst_pers_ges", pgettext_lazy("legal form", "Other company")),
    ("stiftung", pgettext_lazy("legal form", "Foundation")),
    ("ug", pgettext_lazy("legal form", "UG (mini limited company)")),
    (
        "einzel",
        pgettext_lazy("legal form", "Sole proprietor, small business, commercial agent"),
    ),
)
LEGAL_FORM_CODES = frozenset(code for code, _ in LEGAL_FORMS)


@dataclass(frozen=True)
class Credentials:
    client_reference: str
    username: str
    password: str = field(repr=False)
    secret: str = field(repr=False)


@dataclass(frozen=True)
class Address:
    street: str
    postal_code: str
    city: str
    country: str  # ISO 3166 alpha-2, as the rest of the product stores it


@dataclass(frozen=True)
class Debtor:
    """The buying company, as checkout knows it."""

    company_name: str
    vat_id: str
    email: str
    legal_form: str  # one of LEGAL_FORM_CODES
    first_name: str  # the billing contact (also sent as the company's owner, as Oro does)
    last_name: str
    address: Address  # billing address
    ip_address: str
    host_name: str = ""  # ISP: the reverse DNS name of ip_address, when it has one


@dataclass(frozen=True)
class Article:
    """One order line; prices are per unit."""

    sku: str
    name: str
    quantity: int
    unit_price_net: Decimal
    unit_price_gross: Decimal
    vat_rate: Decimal  # a fraction: 19 % is Decimal("0.19")


@dataclass(frozen=True)
class Amounts:
    """The order's totals in one currency."""

    currency: str  # ISO 4217
    total_gross: Decimal
    total_net: Decimal
    shipping_gross: Decimal = Decimal("0")
    shipping_net: Decimal = Decimal("0")
    discount_gross: Decimal = Decimal("0")
    discount_net: Decimal = Decimal("0")


@dataclass(frozen=True)
class Invoice:
    invoice_id: str
    invoice_date: date
    payment_terms_days: int  # the integration's Invoice Due Period
    delivery_date: date

    @property
    def due_date(self) -> date:
        return self.invoice_date + timedelta(days=self.payment_terms_days)


@dataclass(frozen=True)
class ReserveRequest:
    operation: ClassVar[Operation] = Operation.RESERVE
    order_id: str
    amounts: Amounts
    debtor: Debtor
    articles: tuple[Article, ...]
    shipping_address: Address | None = None  # None: ship to the billing address


@dataclass(frozen=True)
class CaptureRequest:
    operation: ClassVar[Operation] = Operation.CAPTURE
    order_id: str
    amounts: Amounts


@dataclass(frozen=True)
class ActivateRequest:
    operation: ClassVar[Operation] = Operation.ACTIVATE
    order_id: str
    amounts: Amounts
    invoice: Invoice


@dataclass(frozen=True)
class CancelRequest:
    operation: ClassVar[Operation] = Operation.CANCEL
    order_id: str
    amounts: Amounts
    ref_no: str = ""


@dataclass(frozen=True)
class CheckStatusRequest:
    operation: ClassVar[Operation] = Operation.CHECK_STATUS
    order_id: str
    amounts: Amounts | None = None  # None: a made-up order (Check connection)
    ref_no: str = ""


@dataclass(frozen=True)
class ApplyTransactionRequest:
    """The buyer has paid `amount` of an activated order (invoice `invoice_id`) on `paid_on`."""

    operation: ClassVar[Operation] = Operation.APPLY_TRANSACTION
    order_id: str
    ref_no: str
    invoice_id: str
    currency: str
    amount: Decimal
    paid_on: date


Request = (
    ReserveRequest
    | CaptureRequest
    | ActivateRequest
    | CancelRequest
    | CheckStatusRequest
    | ApplyTransactionRequest
)


@dataclass(frozen=True)
class Exchange:
    """One HTTP exchange as it may be stored: password and security code already removed."""

    operation: Operation
    url: str
    request_xml: str
    response_xml: str | None  # None: no answer arrived
    http_status: int | None
    duration_ms: int


@dataclass(frozen=True)
class ProviderMessage:
    code: str
    message: str


@dataclass(frozen=True)
class CorrectedDebtor:
    """The company data as InfinitePay corrected it at reserve, verbatim, for ops to see."""

    name: str = ""
    street: str = ""
    street_number: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""  # as InfinitePay sent it (alpha-3 in the record), never converted
    debtor_id: str = ""

    def to_json(self) -> dict[str, str]:
        return {key: value for key, value in self.__dict__.items() if value}


APPROVED_STATUS = "1"


@dataclass(frozen=True)
class Result:
    """InfinitePay answered: an approval (status "1") or a denial with its reasons."""

    operation: Operation
    status: str
    order_id: str
    ref_no: str
    debtor_id: str
    guaranteed_amount: Decimal | None
    add_info: str
    errors: tuple[ProviderMessage, ...]
    exchange: Exchange
    corrected_debtor: CorrectedDebtor | None = None

    @property
    def approved(self) -> bool:
        return self.status == APPROVED_STATUS

    @property
    def error_codes(self) -> tuple[str, ...]:
        return tuple(error.code for error in self.errors)
