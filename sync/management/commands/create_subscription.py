"""create_subscription: subscribe a downstream system to domains of the hub.

    python manage.py create_subscription --system erp --name erp-items \\
        --url https://erp.example.com/mdm/webhook --domains customer,item \\
        [--fields customer.name=AccountName,customer.credit_limit=CreditLimit] [--secret whsec_…]

Without ``--secret`` a signing secret is made and printed once: give it to the receiver (it is
kept in the hub to sign, and shown nowhere else but the admin). Records that exist already are not
sent: run ``resync`` for that.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import URLValidator
from django.db import IntegrityError

from golden_records.management.actor import add_actor_argument, command_origin
from golden_records.models import SourceSystem
from sync import signing
from sync.models import SigningSecret, Subscription
from sync.services import SyncError, create_subscription


def parse_fields(value: str) -> dict[str, dict[str, str]]:
    """``customer.name=AccountName,item.sku=ItemNo`` → {"customer": {"name": "AccountName"}, …}"""
    fields: dict[str, dict[str, str]] = {}
    for part in filter(None, (p.strip() for p in value.split(","))):
        ours, sep, theirs = part.partition("=")
        domain, dot, attribute = ours.strip().partition(".")
        if not (sep and dot and domain and attribute and theirs.strip()):
            raise CommandError(f"--fields: {part!r} is not domain.attribute=TheirName.")
        fields.setdefault(domain, {})[attribute] = theirs.strip()
    return fields


def valid_secret(secret: str) -> bool:
    if not secret.startswith(signing.SECRET_PREFIX):
        return False
    try:
        signing.sign(secret, "check", 0, b"")
    except ValueError:
        return False
    return len(secret) > len(signing.SECRET_PREFIX) + 16


class Command(BaseCommand):
    help = "Subscribe a downstream system to domains; prints a generated signing secret once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--system", required=True, help="Source system code, e.g. erp.")
        parser.add_argument("--name", required=True, help="Unique name, e.g. erp-items.")
        parser.add_argument("--url", required=True, help="The receiver's webhook URL.")
        parser.add_argument(
            "--domains", required=True, help="Comma-separated: customer,item,location,price."
        )
        parser.add_argument(
            "--fields",
            default="",
            help="Attributes it receives, renamed: customer.name=AccountName,… "
            "(a domain without any receives every attribute under the hub's names).",
        )
        parser.add_argument(
            "--secret", default=None, help="A whsec_… secret the receiver has already."
        )
        add_actor_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        system = SourceSystem.objects.filter(code=options["system"]).first()
        if system is None:
            raise CommandError(f"No source system {options['system']!r}: create_source_system.")
        url = options["url"]
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError as exc:
            raise CommandError(f"--url: {url!r} is not an http(s) URL.") from exc
        secret = options["secret"]
        if secret is not None and not valid_secret(secret):
            raise CommandError("--secret: not a whsec_… Standard Webhooks secret (base64 key).")
        if Subscription.objects.filter(name=options["name"]).exists():
            raise CommandError(f"A subscription named {options['name']!r} exists already.")
        domains = [d.strip() for d in options["domains"].split(",") if d.strip()]
        try:
            subscription = create_subscription(
                system,
                options["name"],
                url,
                domains,
                fields=parse_fields(options["fields"]),
                secret=secret,
                origin=command_origin("create_subscription", options),
            )
        except SyncError as exc:
            raise CommandError(exc.message) from exc
        except IntegrityError as exc:
            raise CommandError(f"Could not create {options['name']!r}: {exc}") from exc
        self.stdout.write(
            f"Created subscription {subscription.name}: {system.code} receives "
            f"{', '.join(subscription.domains)} at {subscription.endpoint_url}."
        )
        if secret is None:
            made = SigningSecret.objects.get(subscription=subscription).secret
            self.stdout.write("Signing secret (shown once; give it to the receiver):\n" + made)
        self.stdout.write(
            "Records that exist already are not sent: "
            f"python manage.py resync --system {system.code} --domain <domain>"
        )
