"""Move InfinitePay's Debtor Data (e-mail, legal form) from its own columns into method_data.

One UPDATE per table, on SQLite and PostgreSQL alike: a row with neither value (Payment
Term, a cart that never chose InfinitePay) keeps `{}`. The keys are the names of the fields
of InfinitePay's form, which reads them back.
"""

from django.db import migrations
from django.db.models import F, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, JSONObject

TABLES = ["Cart", "Payment"]


def into_method_data(apps, schema_editor):
    for name in TABLES:
        model = apps.get_model("checkout", name)
        model.objects.exclude(debtor_email="", legal_form="").update(
            method_data=JSONObject(debtor_email=F("debtor_email"), legal_form=F("legal_form"))
        )


def out_of_method_data(apps, schema_editor):
    for name in TABLES:
        model = apps.get_model("checkout", name)
        model.objects.filter(method_data__has_any_keys=["debtor_email", "legal_form"]).update(
            debtor_email=Coalesce(KT("method_data__debtor_email"), Value("")),
            legal_form=Coalesce(KT("method_data__legal_form"), Value("")),
            method_data={},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("checkout", "0003_method_data"),
    ]

    operations = [
        migrations.RunPython(into_method_data, out_of_method_data, elidable=True),
    ]
