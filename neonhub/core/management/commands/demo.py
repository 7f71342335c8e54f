"""Create (or reuse) the demo organization and print how to log in."""

import json
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from neonhub.core.models import Organization, Role
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
        from django.utils.module_loading import import_string

        for hook in getattr(settings, "NEONHUB_DEMO_HOOKS", []):
            import_string(hook)(org)
        login = json.loads(login_file.read_text())
        self.stdout.write("")
        self.stdout.write(f"  NeonHub is at {settings.NEONHUB_PUBLIC_URL}/")
        self.stdout.write(f"  Log in as {login['email']} with password {login['password']}")
        self.stdout.write(f"  API docs: {settings.NEONHUB_PUBLIC_URL}/api/v1/docs")
        self.stdout.write("")
