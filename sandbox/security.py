"""Credentials: the WS-Security header of every call, and CLIENT_REF and SECURITY_CD.

Every failure is a SOAP fault (the sandbox's documented choice, docs/sandbox.md):
- no UsernameToken, a wrong username or password, or a password that is not PasswordText,
  a wrong CLIENT_REF or SECURITY_CD: `wsse:FailedAuthentication`;
- no Timestamp, an unreadable one, or one outside its window (5 minutes' clock skew allowed
  either side): `wsse:MessageExpired`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from lxml import etree

from .accounts import Account
from .contract import PASSWORD_TEXT, WSSE, WSU
from .soap import FAILED_AUTHENTICATION, MESSAGE_EXPIRED, SoapFault

CLOCK_SKEW = timedelta(minutes=5)
# A Timestamp without Expires is good this long after Created (Oro's WS-Security filter's TTL).
DEFAULT_TTL = timedelta(seconds=600)


def security_code(*, secret: str, client_reference: str, order_id: str) -> str:
    """base64 of the lower-case hex HMAC-SHA256 of CLIENT_REF + ORDER_ID, keyed by the secret."""
    digest = hmac.new(
        secret.encode("utf-8"), (client_reference + order_id).encode("utf-8"), hashlib.sha256
    ).hexdigest()
    return base64.b64encode(digest.encode("ascii")).decode("ascii")


def check_ws_security(header: etree._Element | None, account: Account, now: datetime) -> None:
    """Check the UsernameToken (PasswordText) and the Timestamp window; raise a SoapFault."""
    security = None if header is None else header.find(f"{{{WSSE}}}Security")
    token = None if security is None else security.find(f"{{{WSSE}}}UsernameToken")
    if security is None or token is None:
        raise SoapFault(FAILED_AUTHENTICATION, "a WS-Security UsernameToken is required")
    password = token.find(f"{{{WSSE}}}Password")
    if password is not None and password.get("Type", PASSWORD_TEXT) not in {
        PASSWORD_TEXT,
        "wsse:PasswordText",
    }:
        raise SoapFault(FAILED_AUTHENTICATION, "only PasswordText passwords are accepted")
    if not (
        _same((token.findtext(f"{{{WSSE}}}Username") or "").strip(), account.username)
        and _same(None if password is None else password.text, account.password)
    ):
        raise SoapFault(FAILED_AUTHENTICATION, "the security token could not be authenticated")

    timestamp = security.find(f"{{{WSU}}}Timestamp")
    if timestamp is None:
        raise SoapFault(MESSAGE_EXPIRED, "a WS-Security Timestamp is required")
    try:
        created = parse_instant(timestamp.findtext(f"{{{WSU}}}Created"))
        expires_text = timestamp.findtext(f"{{{WSU}}}Expires")
        expires = parse_instant(expires_text) if expires_text else created + DEFAULT_TTL
    except ValueError:
        raise SoapFault(MESSAGE_EXPIRED, "the Timestamp cannot be read") from None
    if created > now + CLOCK_SKEW or expires <= now - CLOCK_SKEW or expires < created:
        raise SoapFault(MESSAGE_EXPIRED, "the message has expired")


def check_client_reference(given: str, account: Account) -> None:
    if not _same(given, account.client_reference):
        raise SoapFault(FAILED_AUTHENTICATION, "unknown CLIENT_REF", detail=True)


def check_security_code(given: str, *, order_id: str, account: Account) -> None:
    """SECURITY_CD must be computed over `order_id` (on activate, the order found)."""
    expected = security_code(
        secret=account.secret, client_reference=account.client_reference, order_id=order_id
    )
    if not _same(given, expected):
        raise SoapFault(FAILED_AUTHENTICATION, "invalid SECURITY_CD", detail=True)


def parse_instant(text: str | None) -> datetime:
    """An xs:dateTime; one without an offset is read as UTC."""
    if not text or not text.strip():
        raise ValueError("no date-time")
    instant = datetime.fromisoformat(text.strip())
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
