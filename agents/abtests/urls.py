"""The abtests pages (namespace ``abtests``)."""

from django.urls import path  # noqa: F401

app_name = "abtests"

urlpatterns: list = []
