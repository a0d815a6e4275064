"""Encryption at rest for integration secrets (passwords, HMAC secrets).

Fernet (AES-128-CBC with HMAC-SHA256) from `cryptography`, with every key in
FIELD_ENCRYPTION_KEYS accepted for reading and the first one used for writing,
so keys rotate without downtime.

A stored secret that no configured key decrypts (its key was rotated away) does not stop
its row from loading: lists and pages that do not need the secret work as before, and
reading the secret itself raises `UndecryptableSecret`, which says what to do.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.utils.text import get_text_list
from django.utils.translation import gettext, gettext_noop

from backoffice.phrases import Phrase

UNDECRYPTABLE_MESSAGE = gettext_noop(
    "the stored secret cannot be decrypted with the configured keys; enter it again"
)
# The same, to be read in the reader's language where it is kept (a last connection check).
UNDECRYPTABLE_PHRASE = Phrase(UNDECRYPTABLE_MESSAGE)


class UndecryptableSecret(ImproperlyConfigured):
    """A stored secret that no key in FIELD_ENCRYPTION_KEYS decrypts.

    The configuration lost the key it was written with: put that key back in
    FIELD_ENCRYPTION_KEYS, or enter the secret again.
    """


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise UndecryptableSecret(
            gettext(
                "A stored secret cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS: "
                "%(problem)s."
            )
            % {"problem": gettext(UNDECRYPTABLE_MESSAGE)}
        ) from exc


def generate_key() -> str:
    return Fernet.generate_key().decode()


@dataclass(frozen=True)
class StoredToken:
    """A stored secret that the configured keys cannot decrypt, kept as it is in the database.

    Saving the row writes it back unchanged, so putting the old key back makes it readable.
    """

    token: str = field(repr=False)

    def __str__(self) -> str:
        return ""  # never shown, never sent


class EncryptedSecretAttribute(DeferredAttribute):
    """Reading a secret that cannot be decrypted raises `UndecryptableSecret`, naming its row."""

    def __get__(self, instance, cls=None):
        value = super().__get__(instance, cls)
        if isinstance(value, StoredToken):
            field = self.field
            assert isinstance(field, EncryptedTextField)
            raise UndecryptableSecret(describe_undecryptable(instance, [field]))
        return value

    def __set__(self, instance, value) -> None:
        # A data descriptor, so that reading goes through __get__ even once the value is loaded.
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    """A text field stored as a Fernet token; Python code only ever sees plaintext."""

    descriptor_class = EncryptedSecretAttribute

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        try:
            return decrypt(value)
        except UndecryptableSecret:
            return StoredToken(value)

    def get_prep_value(self, value):
        if isinstance(value, StoredToken):
            return value.token
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def pre_save(self, model_instance, add):
        # Saving a row whose secret cannot be read keeps the secret as stored.
        return self.value_from_object(model_instance)

    def value_from_object(self, obj):
        """The value as loaded: plaintext, or a `StoredToken` when it cannot be decrypted.

        Forms and saving use it, so a row whose secret cannot be read still renders and saves.
        """
        if self.attname not in obj.__dict__:
            obj.refresh_from_db(fields=[self.attname])
        return obj.__dict__[self.attname]


def undecryptable_fields(instance: models.Model) -> list["EncryptedTextField"]:
    """The encrypted fields of `instance` whose stored secrets cannot be decrypted."""
    return [
        f
        for f in instance._meta.concrete_fields
        if isinstance(f, EncryptedTextField)
        and isinstance(instance.__dict__.get(f.attname), StoredToken)
    ]


def describe_undecryptable(instance: models.Model, fields: list["EncryptedTextField"]) -> str:
    """Say which row and which of its secrets cannot be decrypted, and what to do."""
    return gettext("%(model)s “%(object)s” (id %(id)s), %(fields)s: %(problem)s.") % {
        "model": instance._meta.verbose_name,
        "object": instance,
        "id": instance.pk,
        "fields": get_text_list([str(f.verbose_name) for f in fields], gettext("and")),
        "problem": gettext(UNDECRYPTABLE_MESSAGE),
    }


def find_undecryptable() -> Iterator[tuple[models.Model, list[EncryptedTextField]]]:
    """Every stored row with secrets the configured keys cannot decrypt, and those fields."""
    for model in apps.get_models():
        if not any(
            isinstance(f, EncryptedTextField) and f.model is model
            for f in model._meta.concrete_fields
        ):
            continue
        for instance in model._base_manager.order_by("pk"):
            unreadable = undecryptable_fields(instance)
            if unreadable:
                yield instance, unreadable


@cache
def _fernet() -> MultiFernet:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must list at least one Fernet key.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key "
            "(32 url-safe base64-encoded bytes; make one with `manage.py generate_encryption_key`)."
        ) from exc


def _forget_keys(*, setting: str, **kwargs) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        _fernet.cache_clear()


setting_changed.connect(_forget_keys)
