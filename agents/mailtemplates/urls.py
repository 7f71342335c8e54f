"""The mailtemplates pages (namespace ``mailtemplates``)."""

from django.urls import path  # noqa: F401

app_name = "mailtemplates"

urlpatterns: list = []
