"""Connector forms built from a provider's Credentials and Config schemas.

Credentials are write-only: their inputs are always empty, a blank one keeps what is stored
(the help text shows its mask, ``AC12…9f3e``), and secret fields are password inputs.
Every field is optional at the form level; the provider's schema (through
``services.connector_check``) decides what is missing or wrong, so forms, the API and the
services agree, and its errors are shown next to the fields they name.  The admin uses
these forms; pages can too (``connector_form_class(provider_cls, ...)``).
"""

from __future__ import annotations

import json
import types
import typing
from enum import Enum
from typing import Any, Literal

from django import forms
from pydantic import BaseModel, SecretBytes, SecretStr

from connectors import services
from connectors.base import Provider
from connectors.models import Connector
from neonhub.core.errors import InvalidInput

CRED = "cred__"
CONF = "conf__"


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``None`` in a union, and whether it was optional."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    return annotation, False


def _choices(annotation: Any) -> list[tuple[str, str]] | None:
    if typing.get_origin(annotation) is Literal:
        return [(str(v), str(v)) for v in typing.get_args(annotation)]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [(str(m.value), str(m.value)) for m in annotation]
    return None


def field_for(
    name: str, info, *, secret_mask: str | None = None, credential: bool = False
) -> forms.Field:
    """A form field for one schema field (all optional: the schema judges what is required)."""
    annotation, _ = _unwrap(info.annotation)
    help_text = info.description or ""
    label = name.replace("_", " ").capitalize()
    if credential:
        secret = isinstance(annotation, type) and issubclass(annotation, SecretStr | SecretBytes)
        note = f"Set: {secret_mask}. Leave blank to keep it." if secret_mask else "Not set."
        widget = (
            forms.PasswordInput(render_value=False)
            if secret
            else forms.TextInput(attrs={"autocomplete": "off"})
        )
        return forms.CharField(
            label=label,
            required=False,
            widget=widget,
            strip=True,
            help_text=f"{help_text} {note}".strip(),
        )
    choices = _choices(annotation)
    if choices is not None:
        return forms.ChoiceField(
            label=label, required=False, choices=[("", "—"), *choices], help_text=help_text
        )
    if annotation is bool:
        return forms.NullBooleanField(label=label, required=False, help_text=help_text)
    if (
        typing.get_origin(annotation) in (list, dict)
        or annotation in (list, dict)
        or (isinstance(annotation, type) and issubclass(annotation, BaseModel))
    ):
        return forms.JSONField(label=label, required=False, help_text=help_text)
    return forms.CharField(label=label, required=False, help_text=help_text)


class ConnectorForm(forms.ModelForm):
    """Base of the generated forms; ``provider_cls`` is set by ``connector_form_class``."""

    provider_cls: type[Provider]

    class Meta:
        model = Connector
        fields = ["organization", "name", "mode", "enabled", "token_expires_at"]

    def __init__(self, *args: Any, organization=None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.instance.provider = self.provider_cls.slug
        if organization is not None:
            self.instance.organization = organization
        if self.editing:
            for name in self.provider_cls.Config.model_fields:
                if CONF + name in self.fields and name in self.instance.config:
                    value = self.instance.config[name]
                    self.initial[CONF + name] = (
                        value if not isinstance(value, dict | list) else json.dumps(value)
                    )
        self.credentials_values: dict = {}
        self.config_values: dict = {}
        self.checked_config: dict | None = None

    @property
    def editing(self) -> bool:
        return not self.instance._state.adding  # a new instance already has its UUID

    # --- what the person typed, as the services take it -------------------------------------

    def _values(self, prefix: str, *, keep_blank: bool) -> dict:
        values: dict = {}
        for key, value in self.cleaned_data.items():
            if not key.startswith(prefix):
                continue
            if value in ("", None):
                if keep_blank:
                    continue  # blank keeps what is stored (or leaves the field out)
                value = None  # on an edit of config, an emptied field is removed
            values[key.removeprefix(prefix)] = value
        return values

    def clean(self) -> dict:
        cleaned = super().clean()
        editing = self.editing
        self.credentials_values = self._values(CRED, keep_blank=True)
        self.config_values = self._values(CONF, keep_blank=not editing)
        mode = cleaned.get("mode") or self.instance.mode
        self._check_name(cleaned)
        try:
            _, self.checked_config = services.connector_check(
                provider=self.provider_cls.slug,
                mode=mode,
                credentials=self.credentials_values,
                config=self.config_values,
                connector=self.instance if editing else None,
            )
        except InvalidInput as exc:
            self._add_errors(exc)
        return cleaned

    def _check_name(self, cleaned: dict) -> None:
        organization = cleaned.get("organization") or getattr(self.instance, "organization", None)
        name = cleaned.get("name")
        if organization is None or not name:
            return
        taken = Connector.objects.filter(
            organization=organization, provider=self.provider_cls.slug, name=name
        )
        if taken.exclude(pk=self.instance.pk).exists():
            self.add_error(
                "name",
                f"This organization already has a {self.provider_cls.label} connector named {name!r}",
            )

    def _add_errors(self, exc: InvalidInput) -> None:
        for detail in exc.details or [{"field": "", "message": exc.message}]:
            head, _, rest = str(detail.get("field", "")).partition(".")
            name = (
                {"credentials": CRED, "config": CONF}.get(head, "") + rest.split(".")[0]
                if rest
                else head
            )
            target = name if name in self.fields else None
            self.add_error(
                target,
                f"{detail['field']}: {detail['message']}" if target is None else detail["message"],
            )

    # --- saving through the services ---------------------------------------------------------

    def save_connector(self, *, created_by=None, principal=None, request=None) -> Connector:
        """Create or update through the services (validation, encryption, health rules)."""
        data = self.cleaned_data
        if not self.editing:
            return services.connector_create(
                organization=data.get("organization") or self.instance.organization,
                provider=self.provider_cls.slug,
                name=data["name"],
                mode=data["mode"],
                credentials=self.credentials_values,
                config=self.config_values,
                enabled=data.get("enabled", True),
                token_expires_at=data.get("token_expires_at"),
                created_by=created_by,
                principal=principal,
                request=request,
            )
        current = Connector.objects.get(pk=self.instance.pk)
        # Only a real change of config counts as one (it clears needs_reconnect and disabled).
        config = self.config_values if self.checked_config != current.config else None
        return services.connector_update(
            connector=current,
            name=data["name"],
            mode=data["mode"],
            enabled=data.get("enabled", True),
            credentials=self.credentials_values or None,
            config=config,
            token_expires_at=data.get("token_expires_at"),
            principal=principal,
            request=request,
        )


def credential_field_names(provider_cls: type[Provider]) -> list[str]:
    return [CRED + name for name in provider_cls.Credentials.model_fields]


def config_field_names(provider_cls: type[Provider]) -> list[str]:
    return [CONF + name for name in provider_cls.Config.model_fields]


def connector_form_class(
    provider_cls: type[Provider],
    *,
    connector: Connector | None = None,
    base: type[ConnectorForm] = ConnectorForm,
) -> type[ConnectorForm]:
    """A form class for one provider; ``connector`` (when editing) supplies the masks shown."""
    masks = dict(connector.credentials_masks) if connector is not None else {}
    attrs: dict[str, Any] = {"provider_cls": provider_cls, "__module__": __name__}
    for name, info in provider_cls.Credentials.model_fields.items():
        attrs[CRED + name] = field_for(name, info, secret_mask=masks.get(name), credential=True)
    for name, info in provider_cls.Config.model_fields.items():
        attrs[CONF + name] = field_for(name, info)
    return type(f"{provider_cls.__name__}ConnectorForm", (base,), attrs)
