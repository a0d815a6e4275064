from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from backoffice.demo import DEMO_PASSWORD
from checkout import demo as checkout_demo
from infinitepay import demo as infinitepay_demo
from payment_rules import demo as payment_rules_demo
from payment_term import demo as payment_term_demo
from sandbox import accounts as sandbox_accounts


class Command(BaseCommand):
    help = "Create demo users, integrations and data (idempotent) and print where to log in."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="Where the site runs.")

    @transaction.atomic
    def handle(self, *args, url: str, **options) -> None:
        User = get_user_model()
        # Roles as in life: a payment admin and an ops user hold their role's group and
        # nothing more; the superuser is for setting up the site, not for daily work. The
        # groups are made by migrations (infinitepay 0004 and after).
        self._user(User, "setup", is_superuser=True)
        admin = self._user(User, "admin", is_superuser=False)
        ops = self._user(User, "ops", is_superuser=False)
        admin.groups.set([Group.objects.get(name="Payment admins")])
        ops.groups.set([Group.objects.get(name="Payment ops")])
        infinitepay = infinitepay_demo.seed_integration(owner=admin)
        payment_term = payment_term_demo.seed_integration(owner=admin)
        payment_rules_demo.seed_rules(infinitepay=infinitepay, payment_term=payment_term)
        checkout_demo.seed_storefront()
        personas = checkout_demo.seed_persona_buyers(
            personas=[(p.company_name, p.vat_id) for p in sandbox_accounts.PERSONAS]
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"\nBack office: {url}/admin/\n"
                f"  payment admin: admin / {DEMO_PASSWORD}\n"
                f"  ops:           ops / {DEMO_PASSWORD}\n"
                f"  superuser:     setup / {DEMO_PASSWORD} (setting up the site only)\n"
                f"Shop: {url}/\n"
                f"  buyer:         {checkout_demo.BUYER_USERNAME} / {DEMO_PASSWORD}\n"
                f"  sandbox personas (same password): "
                f"{', '.join(b.user.username for b in personas)}\n"
            )
        )

    def _user(self, User, username: str, *, is_superuser: bool):
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "is_staff": True,
                "is_superuser": is_superuser,
                "email": f"{username}@example.com",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
        # A database seeded before the roles were as in life is put right.
        user.is_staff = True
        user.is_superuser = is_superuser
        user.save()
        return user
