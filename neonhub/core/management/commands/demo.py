"""Create (or reuse) the demo organization and print how to log in."""

import json
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from neonhub.core.models import Membership, Organization, Role
from neonhub.core.services import membership_add, organization_create

EMAIL = "owner@demo.neonhub.local"


class Command(BaseCommand):
    help = "Create the demo organization with an owner login (reused on later runs) and print the login."

    def handle(self, *args, **options):
        login_file = settings.VAR_DIR / "demo-login.json"
        org = Organization.objects.filter(slug="demo").first()
        if org is None:
            org = organization_create(slug="demo", name="Demo Marketing Co")
        user = get_user_model().objects.filter(username=EMAIL).first()
        if user is None or not login_file.exists():
            password = secrets.token_urlsafe(12)
            membership_add(organization=org, email=EMAIL, password=password, role=Role.OWNER)
            login_file.write_text(json.dumps({"email": EMAIL, "password": password}))
            login_file.chmod(0o600)
        # The demo owner does everything from the pages (team, keys, connectors, settings) as
        # an owner of the organization; they are not staff: the admin (/admin/) is for staff,
        # made with `manage.py createsuperuser`.
        get_user_model().objects.filter(username=EMAIL).update(
            first_name="Demo", last_name="Owner", is_staff=False, is_superuser=False
        )
        demo_user = get_user_model().objects.get(username=EMAIL)
        Membership.objects.update_or_create(
            organization=org, user=demo_user, defaults={"role": Role.OWNER}
        )
        from django.utils.module_loading import import_string

        for hook in getattr(settings, "NEONHUB_DEMO_HOOKS", []):
            import_string(hook)(org)
        login = json.loads(login_file.read_text())
        self.stdout.write("")
        self.stdout.write(f"  NeonHub is at {settings.NEONHUB_PUBLIC_URL}/")
        self.stdout.write(f"  Log in as {login['email']} with password {login['password']}")
        self.stdout.write(
            "  They own the organization: invite people from Settings › Team. They are not staff;"
        )
        self.stdout.write("  for the admin (/admin/) make a staff user: manage.py createsuperuser")
        self.stdout.write(f"  API docs: {settings.NEONHUB_PUBLIC_URL}/api/v1/docs")
        self.stdout.write("")
