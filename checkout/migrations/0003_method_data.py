"""A payment method's data, whatever its type asks for, in one JSON column per row."""

import django.core.serializers.json
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("checkout", "0002_bounded_input"),
    ]

    operations = [
        migrations.AddField(
            model_name="cart",
            name="method_data",
            field=models.JSONField(
                blank=True,
                default=dict,
                encoder=django.core.serializers.json.DjangoJSONEncoder,
                verbose_name="payment method data",
            ),
        ),
        migrations.AddField(
            model_name="payment",
            name="method_data",
            field=models.JSONField(
                blank=True,
                default=dict,
                encoder=django.core.serializers.json.DjangoJSONEncoder,
                verbose_name="payment method data",
            ),
        ),
    ]
