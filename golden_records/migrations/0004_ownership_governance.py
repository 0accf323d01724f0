"""Governance flags on ownership rules, with defaults for a new installation.

Governed (a differing value from a non-owner waits for a steward's approval): a customer's
credit terms and a price's amount and currency, all owned by ERP, and an item's GTIN.
Four-eyes (a steward's edit needs a second steward): credit limit, credit hold, payment terms
and unit price. Admins change them in the admin (save_ownership_rule); this only seeds them.
"""

from django.db import migrations, models

GOVERNED = [
    ("customer", "credit_limit"),
    ("customer", "credit_currency"),
    ("customer", "payment_terms"),
    ("customer", "credit_hold"),
    ("price", "unit_price"),
    ("price", "currency"),
    ("item", "gtin"),
]
FOUR_EYES = [
    ("customer", "credit_limit"),
    ("customer", "credit_hold"),
    ("customer", "payment_terms"),
    ("price", "unit_price"),
]


def set_defaults(apps, schema_editor):
    OwnershipRule = apps.get_model("golden_records", "OwnershipRule")
    for domain, attribute in GOVERNED:
        OwnershipRule.objects.filter(domain=domain, attribute=attribute).update(governed=True)
    for domain, attribute in FOUR_EYES:
        OwnershipRule.objects.filter(domain=domain, attribute=attribute).update(four_eyes=True)


class Migration(migrations.Migration):

    dependencies = [
        ('golden_records', '0003_xref_history_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalownershiprule',
            name='four_eyes',
            field=models.BooleanField(default=False, help_text="A steward's edit of this attribute is applied only after a second steward approves it.", verbose_name='four eyes'),
        ),
        migrations.AddField(
            model_name='historicalownershiprule',
            name='governed',
            field=models.BooleanField(default=False, help_text="A differing value from a system that does not own the attribute waits for a steward's approval (change approvals queue)."),
        ),
        migrations.AddField(
            model_name='ownershiprule',
            name='four_eyes',
            field=models.BooleanField(default=False, help_text="A steward's edit of this attribute is applied only after a second steward approves it.", verbose_name='four eyes'),
        ),
        migrations.AddField(
            model_name='ownershiprule',
            name='governed',
            field=models.BooleanField(default=False, help_text="A differing value from a system that does not own the attribute waits for a steward's approval (change approvals queue)."),
        ),
        migrations.RunPython(set_defaults, migrations.RunPython.noop),
    ]
