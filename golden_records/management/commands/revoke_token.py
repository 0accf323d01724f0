from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from golden_records.management.actor import add_actor_argument, command_origin
from golden_records.models import ApiToken
from golden_records.services.tokens import TokenError, revoke_token


class Command(BaseCommand):
    help = (
        "Revoke an API token, given by its id or by its hint (the first 12 characters, shown in "
        "the admin). Every process refuses it within MDM_TOKEN_CACHE_SECONDS."
    )

    def add_arguments(self, parser):
        parser.add_argument("token", help="The token's id or hint (e.g. mdm_Xy12AbCd).")
        add_actor_argument(parser)

    def handle(self, *args, token, **options):
        match = Q(hint=token) | (Q(pk=int(token)) if token.isdigit() else Q())
        found = list(ApiToken.objects.filter(match).values_list("pk", flat=True)[:2])
        if len(found) != 1:
            raise CommandError(
                f"No API token {token!r}." if not found else f"{token!r} names several tokens."
            )
        try:
            row = revoke_token(found[0], command_origin("revoke_token", options))
        except TokenError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Revoked token {row}.")
