from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from neonhub.core.models import Membership, Organization, Role
from runs.models import AgentRun


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Organization {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.LazyAttribute(lambda u: u.username)
    password = factory.PostGenerationMethodCall("set_password", "pw-123456")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OWNER


class AgentRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentRun

    organization = factory.SubFactory(OrganizationFactory)
    agent = "support"
    intent = "triage"
    input = factory.LazyFunction(lambda: {"content": "hello"})
    input_hash = "0" * 64
