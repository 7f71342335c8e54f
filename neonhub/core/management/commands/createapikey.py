from django.core.management.base import BaseCommand, CommandError

from neonhub.core.models import Organization, Role
from neonhub.core.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for an organization; the key is printed once, alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--role", default=Role.MEMBER, choices=Role.values)

    def handle(self, *args, slug, name, role, **options):
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            raise CommandError(f"No organization with slug {slug!r}")
        issued = api_key_create(organization=org, name=name, role=role)
        self.stdout.write(
            f"API key {issued.api_key.prefix} for {org.slug} ({role}). Store it now; it is not shown again:"
        )
        self.stdout.write(issued.token)
