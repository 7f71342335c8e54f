from django.core.management.base import BaseCommand, CommandError

from neonhub.core.errors import InvalidInput
from neonhub.core.services import organization_create


class Command(BaseCommand):
    help = "Create an organization, optionally with an owner login."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--timezone", default="UTC")
        parser.add_argument("--owner-email")
        parser.add_argument("--owner-password")

    def handle(self, *args, slug, name, timezone, owner_email, owner_password, **options):
        if owner_password and not owner_email:
            raise CommandError("--owner-password needs --owner-email")
        try:
            org = organization_create(
                slug=slug,
                name=name,
                timezone_name=timezone,
                owner_email=owner_email,
                owner_password=owner_password,
            )
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc
        except Exception as exc:  # validation of the model (timezone, slug)
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Created organization {org.slug} ({org.id})")
