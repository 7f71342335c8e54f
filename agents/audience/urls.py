"""URLs of the contact pages (namespace ``audience``) and the public unsubscribe page."""

from django.urls import path

from agents.audience import views

app_name = "audience"

urlpatterns = [
    path("contacts/", views.contact_list, name="contact-list"),
    # Ends in /upload: the body size limit for uploads applies (neonhub/core/middleware.py).
    path("contacts/import/upload", views.contact_import, name="contact-import"),
    path(
        "contacts/import/<str:import_id>/",
        views.contact_import_preview,
        name="contact-import-preview",
    ),
    path("contacts/export/", views.contact_export, name="contact-export"),
]

public_patterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
