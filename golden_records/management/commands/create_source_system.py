from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from golden_records.history import origin_scope
from golden_records.management.actor import add_actor_argument, command_origin
from golden_records.models import SourceSystem


class Command(BaseCommand):
    help = "Register a source system (or update its name, kind and default country)."

    def add_arguments(self, parser):
        parser.add_argument("code", help="Short lower-case code, used in API paths (e.g. erp).")
        parser.add_argument("--name", required=True)
        parser.add_argument("--kind", required=True, choices=SourceSystem.Kind.values)
        parser.add_argument("--inactive", action="store_true", help="Register it as inactive.")
        parser.add_argument(
            "--default-country",
            metavar="XX",
            help="ISO 3166-1 alpha-2 code the system's records are normalised in when they have "
            "no country (a tax id without prefix, a national phone number); '' removes it. "
            "Left as it is when not given.",
        )
        add_actor_argument(parser)

    def handle(self, *args, code, name, kind, inactive, default_country, **options):
        if not code.replace("-", "").replace("_", "").isalnum() or code != code.lower():
            raise CommandError(f"{code!r}: use lower-case letters, digits, - and _.")
        system = SourceSystem.objects.filter(code=code).first() or SourceSystem(code=code)
        created = system.pk is None
        system.name, system.kind, system.active = name, kind, not inactive
        if default_country is not None:
            system.default_country = default_country.strip().upper()
        try:
            system.full_clean()
        except ValidationError as exc:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise CommandError(problems) from exc
        with origin_scope(command_origin("create_source_system", options)):
            system.save()
        verb = "Created" if created else "Updated"
        country = f", default country {system.default_country}" if system.default_country else ""
        self.stdout.write(
            f"{verb} source system {system.code} ({system.name}, {system.kind}{country})."
        )
