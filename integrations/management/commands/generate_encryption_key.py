from django.core.management.base import BaseCommand

from integrations.encryption import generate_key


class Command(BaseCommand):
    help = "Print a new key for FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options) -> None:
        self.stdout.write(generate_key())
