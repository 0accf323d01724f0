"""Default ownership rules: who owns which attribute on a new installation.

Credit terms and prices belong to ERP, account hierarchy and sales owner to CRM, physical item
dimensions to WMS. Rules are data: admins change them in the admin; this only seeds them.
"""

from django.db import migrations

# (domain, attribute, strategy, systems in priority order, fallback_to_any)
DEFAULT_RULES = [
    ("customer", "name", "source_priority", ["erp", "crm"], True),
    ("customer", "tax_id", "source_priority", ["erp", "crm"], True),
    ("customer", "duns", "source_priority", ["erp", "crm"], True),
    ("customer", "email", "most_recent", [], True),
    ("customer", "phone", "most_recent", [], True),
    ("customer", "website", "longest", [], True),
    ("customer", "address_line1", "source_priority", ["erp", "crm"], True),
    ("customer", "address_line2", "source_priority", ["erp", "crm"], True),
    ("customer", "city", "source_priority", ["erp", "crm"], True),
    ("customer", "region", "source_priority", ["erp", "crm"], True),
    ("customer", "postal_code", "source_priority", ["erp", "crm"], True),
    ("customer", "country", "source_priority", ["erp", "crm"], True),
    ("customer", "industry", "source_priority", ["crm", "erp"], True),
    ("customer", "segment", "source_priority", ["crm", "erp"], True),
    ("customer", "sales_owner", "source_priority", ["crm"], False),
    ("customer", "credit_limit", "source_priority", ["erp"], False),
    ("customer", "credit_currency", "source_priority", ["erp"], False),
    ("customer", "payment_terms", "source_priority", ["erp"], False),
    ("customer", "credit_hold", "source_priority", ["erp"], False),
    ("customer", "parent", "source_priority", ["crm"], False),
    ("customer", "status", "source_priority", ["erp", "crm"], True),
    ("item", "sku", "source_priority", ["erp", "crm"], True),
    ("item", "gtin", "source_priority", ["erp", "crm"], True),
    ("item", "mpn", "source_priority", ["erp", "crm"], True),
    ("item", "manufacturer", "source_priority", ["erp", "crm"], True),
    ("item", "name", "source_priority", ["erp", "crm"], True),
    ("item", "description", "longest", [], True),
    ("item", "category", "most_recent", [], True),
    ("item", "uom", "source_priority", ["erp", "crm"], True),
    ("item", "weight_kg", "source_priority", ["wms", "erp"], True),
    ("item", "length_cm", "source_priority", ["wms", "erp"], True),
    ("item", "width_cm", "source_priority", ["wms", "erp"], True),
    ("item", "height_cm", "source_priority", ["wms", "erp"], True),
    ("item", "lifecycle_status", "source_priority", ["erp", "crm"], True),
    ("location", "code", "source_priority", ["erp", "crm"], True),
    ("location", "name", "source_priority", ["wms", "erp"], True),
    ("location", "kind", "source_priority", ["erp", "crm"], True),
    ("location", "address_line1", "source_priority", ["erp", "crm"], True),
    ("location", "address_line2", "source_priority", ["erp", "crm"], True),
    ("location", "city", "source_priority", ["erp", "crm"], True),
    ("location", "region", "source_priority", ["erp", "crm"], True),
    ("location", "postal_code", "source_priority", ["erp", "crm"], True),
    ("location", "country", "source_priority", ["erp", "crm"], True),
    ("location", "latitude", "source_priority", ["wms", "erp"], True),
    ("location", "longitude", "source_priority", ["wms", "erp"], True),
    ("location", "customer", "source_priority", ["erp", "crm"], True),
    ("location", "phone", "most_recent", [], True),
    ("location", "email", "most_recent", [], True),
    ("price", "item", "source_priority", ["erp", "crm"], True),
    ("price", "price_list", "source_priority", ["erp", "crm"], True),
    ("price", "customer", "source_priority", ["erp", "crm"], True),
    ("price", "currency", "source_priority", ["erp", "crm"], True),
    ("price", "unit_price", "source_priority", ["erp"], False),
    ("price", "min_quantity", "source_priority", ["erp", "crm"], True),
    ("price", "valid_from", "source_priority", ["erp", "crm"], True),
    ("price", "valid_to", "source_priority", ["erp", "crm"], True),
]


def create_rules(apps, schema_editor):
    OwnershipRule = apps.get_model("golden_records", "OwnershipRule")
    for domain, attribute, strategy, systems, fallback in DEFAULT_RULES:
        OwnershipRule.objects.get_or_create(
            domain=domain,
            attribute=attribute,
            defaults={"strategy": strategy, "systems": systems, "fallback_to_any": fallback},
        )


def remove_rules(apps, schema_editor):
    apps.get_model("golden_records", "OwnershipRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("golden_records", "0001_initial")]

    operations = [migrations.RunPython(create_rules, remove_rules)]
