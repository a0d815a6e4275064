"""The secrets a developer's machine runs with, and production must refuse.

Settings fall back to them when DEBUG is on; `backoffice.checks` refuses them when it is off.
"""

import base64
import hashlib

# The default of backoffice/settings.py.
DEVELOPMENT_SECRET_KEY = "dev-only-secret-key-change-me-in-production-0123456789abcdef"

# Every SECRET_KEY this repository has published: the default above and the placeholder
# that .env.example carried, which a copied .env may still hold.
DEVELOPMENT_SECRET_KEYS = frozenset(
    {
        DEVELOPMENT_SECRET_KEY,
        "change-me-to-50-random-characters-for-production-use",
    }
)


def development_encryption_key(secret_key: str) -> str:
    """Return the Fernet key development derives from SECRET_KEY, lacking FIELD_ENCRYPTION_KEYS."""
    return base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest()).decode()


def is_development_encryption_key(key: str, *, secret_key: str) -> bool:
    """Tell whether `key` is one development derives: from a published key or from SECRET_KEY."""
    derived = {development_encryption_key(k) for k in (*DEVELOPMENT_SECRET_KEYS, secret_key)}
    return key in derived
