from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import ngettext

from integrations.encryption import (
    EncryptedTextField,
    describe_undecryptable,
    undecryptable_fields,
)


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the newest key in FIELD_ENCRYPTION_KEYS. "
        "Run it after putting a new key first; then the old keys may be dropped."
    )

    def handle(self, *args, **options) -> None:
        total = 0
        unreadable = []
        for model in apps.get_models():
            fields = [
                f.name
                for f in model._meta.get_fields()
                if isinstance(f, EncryptedTextField) and f.model is model
            ]
            if not fields:
                continue
            with transaction.atomic():
                # Reading decrypts with any key; saving encrypts with the newest one.
                for obj in model._base_manager.select_for_update().only("pk", *fields):
                    if undecryptable_fields(obj):
                        # Left as stored: no configured key reads it, so none can rewrite it.
                        unreadable.append(describe_undecryptable(obj, undecryptable_fields(obj)))
                        continue
                    obj.save(update_fields=fields)
                    total += 1
        done = ngettext(
            "Re-encrypted the secrets of %(count)d record.",
            "Re-encrypted the secrets of %(count)d records.",
            total,
        )
        self.stdout.write(self.style.SUCCESS(done % {"count": total}))
        if unreadable:
            left = ngettext(
                "%(count)d record left as stored, since no configured key decrypts it:",
                "%(count)d records left as stored, since no configured key decrypts them:",
                len(unreadable),
            )
            raise CommandError("\n".join([left % {"count": len(unreadable)}, *unreadable]))
