"""The sequences pages (namespace ``sequences``)."""

from django.urls import path  # noqa: F401

app_name = "sequences"

urlpatterns: list = []
