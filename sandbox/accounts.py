"""The sandbox's client account and its test personas (documented in docs/sandbox.md).

Demo data and tests use these constants, so the sandbox and its callers never drift apart.
This module needs nothing but the standard library: the product's demo data imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# The account the sandbox accepts unless told otherwise (CLI flags).
SANDBOX_CLIENT_REFERENCE = "DEMO-CLIENT"
SANDBOX_USERNAME = "demo"
SANDBOX_PASSWORD = "demo-password"
SANDBOX_SECRET = "demo-secret"

DEFAULT_LIMIT = Decimal("50000.00")  # EUR, every debtor not given another limit
SUPPORTED_CURRENCY = "EUR"


@dataclass(frozen=True)
class Account:
    client_reference: str = SANDBOX_CLIENT_REFERENCE
    username: str = SANDBOX_USERNAME
    password: str = SANDBOX_PASSWORD
    secret: str = SANDBOX_SECRET


@dataclass(frozen=True)
class Persona:
    """A test debtor whose VAT ID (or company name) makes the sandbox behave a known way."""

    company_name: str
    vat_id: str
    behaviour: str


@dataclass(frozen=True)
class EmailPersona:
    """A buyer's e-mail (BD_EMAIL) that decides the reserve, as in OroCommerce's test double."""

    email: str
    approved: bool
    behaviour: str


DENIED_AT_RESERVE = Persona(
    company_name="Refused Trading GmbH",
    vat_id="DE100000008",
    behaviour="Reserve is denied (credit check negative, error 3002).",
)
DENIED_AT_ACTIVATION = Persona(
    company_name="Late Activation AG",
    vat_id="DE200000005",
    behaviour="Reserve and capture pass; activation is denied (error 3003).",
)
SMALL_LIMIT = Persona(
    company_name="Small Limit KG",
    vat_id="DE300000002",
    behaviour="Guaranteed limit of 1,000.00 EUR: larger orders are denied (error 3001).",
)
SMALL_LIMIT_AMOUNT = Decimal("1000.00")

PERSONAS: tuple[Persona, ...] = (DENIED_AT_RESERVE, DENIED_AT_ACTIVATION, SMALL_LIMIT)

APPROVED_BY_EMAIL = EmailPersona(
    email="email_for_success_emulation@test.com",
    approved=True,
    behaviour="Reserve passes the credit check whatever the company (the limit still applies).",
)
DENIED_BY_EMAIL = EmailPersona(
    email="email_for_failure_emulation@test.com",
    approved=False,
    behaviour="Reserve is denied (credit check negative, error 3002).",
)
EMAIL_PERSONAS: tuple[EmailPersona, ...] = (APPROVED_BY_EMAIL, DENIED_BY_EMAIL)


def normalize_vat_id(vat_id: str) -> str:
    return "".join(vat_id.split()).upper()


def persona_of(*, vat_id: str, company_name: str) -> Persona | None:
    vat_id = normalize_vat_id(vat_id)
    name = company_name.strip().casefold()
    for persona in PERSONAS:
        if persona.vat_id == vat_id or persona.company_name.casefold() == name:
            return persona
    return None


def email_persona_of(email: str) -> EmailPersona | None:
    email = email.strip().casefold()
    return next((p for p in EMAIL_PERSONAS if p.email == email), None)
