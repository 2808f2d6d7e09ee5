from __future__ import annotations

import factory

from sandbox.models import SandboxPersona


class SandboxPersonaFactory(factory.django.DjangoModelFactory):
    """A simulated persona (no owner) unless ``owner`` is given."""

    class Meta:
        model = SandboxPersona

    handle = factory.Sequence(lambda n: f"persona_{n}")
    display_name = factory.LazyAttribute(lambda o: o.handle.replace("_", " ").title())
    interests = factory.LazyFunction(lambda: ["coffee", "food"])
    activity = 1.0
