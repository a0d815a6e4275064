from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, register


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
