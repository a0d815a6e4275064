"""Debtor Data lives in method_data now; its columns, and checkout's legal forms, go."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("checkout", "0004_debtor_data_into_method_data"),
    ]

    operations = [
        migrations.RemoveField(model_name="cart", name="debtor_email"),
        migrations.RemoveField(model_name="cart", name="legal_form"),
        migrations.RemoveField(model_name="payment", name="debtor_email"),
        migrations.RemoveField(model_name="payment", name="legal_form"),
    ]
