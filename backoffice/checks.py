"""Production refuses the development secrets: system checks, and the guard every process runs.

`manage.py check` (and `check --deploy`) lists what is wrong; the web server (wsgi/asgi),
the Celery worker and beat run the same checks as they start and refuse to start on an
error, as `runserver` and `migrate` do.
"""

import logging

from django.conf import settings
from django.core.checks import Error, Tags, register, run_checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS

from backoffice.development import DEVELOPMENT_SECRET_KEYS, is_development_encryption_key

logger = logging.getLogger(__name__)


@register(Tags.security)
def check_production_secrets(app_configs, **kwargs) -> list[Error]:
    """With DEBUG off, SECRET_KEY and FIELD_ENCRYPTION_KEYS are set, and not to published values."""
    if settings.DEBUG:
        return []
    errors = []
    try:
        secret_key = settings.SECRET_KEY
    except ImproperlyConfigured:  # Django refuses to read an empty one
        secret_key = ""
    if not secret_key:
        errors.append(
            Error(
                "SECRET_KEY is not set, and production (DEBUG=false) has no default.",
                hint="Set SECRET_KEY to a long random value, e.g. from "
                "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`.",
                id="backoffice.E001",
            )
        )
    elif secret_key in DEVELOPMENT_SECRET_KEYS:
        errors.append(
            Error(
                "SECRET_KEY is a development value published in this repository "
                "(the default of the settings or the placeholder of .env.example).",
                hint="Set SECRET_KEY to a long random value of your own.",
                id="backoffice.E001",
            )
        )
    # An empty FIELD_ENCRYPTION_KEYS is integrations.E001.
    development_keys = [
        position
        for position, key in enumerate(getattr(settings, "FIELD_ENCRYPTION_KEYS", []), start=1)
        if is_development_encryption_key(key, secret_key=secret_key)
    ]
    if development_keys:
        errors.append(
            Error(
                "FIELD_ENCRYPTION_KEYS holds the development key derived from SECRET_KEY "
                f"(key number {', '.join(map(str, development_keys))}).",
                hint="Set FIELD_ENCRYPTION_KEYS to keys from "
                "`manage.py generate_encryption_key`; if secrets were stored with the "
                "development key, put the new key first and run `manage.py "
                "rotate_encryption_keys` before dropping it.",
                id="backoffice.E002",
            )
        )
    return errors


def refuse_to_start_if_misconfigured(process: str) -> None:
    """Run the system checks as a process starts: raise on an error, log each warning.

    The database is included (undecryptable secrets are reported), as `migrate` does.
    """
    messages = [
        message for message in run_checks(databases=[DEFAULT_DB_ALIAS]) if not message.is_silenced()
    ]
    for message in messages:
        if not message.is_serious():
            logger.warning("%s", message)
    errors = [message for message in messages if message.is_serious()]
    if errors:
        listing = "\n".join(f"  {error}" for error in errors)
        raise ImproperlyConfigured(
            f"The {process} refuses to start; `manage.py check --deploy` lists the same:\n{listing}"
        )
