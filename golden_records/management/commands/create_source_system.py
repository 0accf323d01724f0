from django.core.management.base import BaseCommand, CommandError

from golden_records.history import ChangeOrigin, origin_scope
from golden_records.models import SourceSystem


class Command(BaseCommand):
    help = "Register a source system (or update its name and kind)."

    def add_arguments(self, parser):
        parser.add_argument("code", help="Short lower-case code, used in API paths (e.g. erp).")
        parser.add_argument("--name", required=True)
        parser.add_argument("--kind", required=True, choices=SourceSystem.Kind.values)
        parser.add_argument("--inactive", action="store_true", help="Register it as inactive.")

    def handle(self, *args, code, name, kind, inactive, **options):
        if not code.replace("-", "").replace("_", "").isalnum() or code != code.lower():
            raise CommandError(f"{code!r}: use lower-case letters, digits, - and _.")
        with origin_scope(ChangeOrigin.command("create_source_system")):
            system, created = SourceSystem.objects.update_or_create(
                code=code, defaults={"name": name, "kind": kind, "active": not inactive}
            )
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} source system {system.code} ({system.name}, {system.kind}).")
