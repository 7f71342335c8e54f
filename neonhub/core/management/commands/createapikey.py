from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from neonhub.core import scopes
from neonhub.core.errors import InvalidInput
from neonhub.core.models import Organization, Role
from neonhub.core.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for an organization; the key is printed once, alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--role", default=Role.MEMBER, choices=Role.values)
        parser.add_argument(
            "--scope",
            action="append",
            default=[],
            choices=sorted(scopes.ALL),
            help="A scope the key holds (repeat); none: everything its role allows",
        )
        parser.add_argument("--expires-days", type=int, default=None, help="Expire in N days")
        parser.add_argument("--rate-limit", default="", help="e.g. 600/minute; default: setting")

    def handle(self, *args, slug, name, role, scope, expires_days, rate_limit, **options):
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            raise CommandError(f"No organization with slug {slug!r}")
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        try:
            issued = api_key_create(
                organization=org,
                name=name,
                role=role,
                scopes=scope,
                expires_at=expires_at,
                rate_limit=rate_limit,
            )
        except InvalidInput as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"API key {issued.api_key.prefix} for {org.slug} ({role}). Store it now; it is not shown again:"
        )
        self.stdout.write(issued.token)
