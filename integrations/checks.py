from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DEFAULT_DB_ALIAS, DatabaseError

from .encryption import describe_undecryptable, find_undecryptable


@register()
def check_encryption_keys(app_configs, **kwargs) -> list[Error]:
    """Integration secrets cannot be stored or read without valid keys: fail at start."""
    keys = getattr(settings, "FIELD_ENCRYPTION_KEYS", [])
    if not keys:
        return [
            Error(
                "FIELD_ENCRYPTION_KEYS is empty: integration secrets cannot be encrypted.",
                hint="Set it to one or more keys from `manage.py generate_encryption_key`.",
                id="integrations.E001",
            )
        ]
    errors = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            errors.append(
                Error(
                    f"Key number {position} in FIELD_ENCRYPTION_KEYS is not a Fernet key.",
                    hint="Fernet keys are 32 url-safe base64-encoded bytes.",
                    id="integrations.E002",
                )
            )
    return errors


@register(Tags.database)
def check_stored_secrets_decrypt(app_configs, databases=None, **kwargs) -> list[Warning]:
    """Name the integrations whose stored secrets no configured key decrypts (keys rotated away).

    A warning, not an error: the back office must start so that the secrets can be entered
    again. Like every database check it runs only when asked for a database (`migrate`,
    `check --database default`, and the start-up check of each process).
    """
    if not databases or DEFAULT_DB_ALIAS not in databases or check_encryption_keys(None):
        return []
    try:
        unreadable = list(find_undecryptable())
    except DatabaseError:
        return []  # not migrated yet, or not reachable: nothing stored to check
    return [
        Warning(
            describe_undecryptable(instance, fields),
            hint="Put the key they were stored with back in FIELD_ENCRYPTION_KEYS, or enter "
            "them again on the integration's page in the back office.",
            id="integrations.W001",
        )
        for instance, fields in unreadable
    ]
