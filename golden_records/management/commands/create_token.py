from django.core.management.base import BaseCommand, CommandError

from golden_records.management.actor import add_actor_argument, command_origin
from golden_records.models import SourceSystem
from golden_records.services.tokens import create_token


class Command(BaseCommand):
    help = (
        "Create an API token and print it once (only its hash is stored). With a system code, "
        "the token writes as that system; with --read-only, it reads every domain."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", nargs="?", help="Source system the token writes as.")
        parser.add_argument("--read-only", action="store_true")
        parser.add_argument("--name", default="", help="A label, to tell tokens apart.")
        add_actor_argument(parser)

    def handle(self, *args, code, read_only, name, **options):
        if read_only == bool(code):
            raise CommandError("Give a system code, or --read-only (not both).")
        system = None
        if code:
            system = SourceSystem.objects.filter(code=code).first()
            if system is None:
                raise CommandError(
                    f"No source system {code!r}; create it with create_source_system first."
                )
        token, _ = create_token(
            system, command_origin("create_token", options), name=name, read_only=read_only
        )
        self.stdout.write(token)
