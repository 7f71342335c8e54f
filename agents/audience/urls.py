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
    path("contacts/new/", views.contact_new, name="contact-new"),
    path("contacts/lists/", views.list_index, name="list-index"),
    path("contacts/lists/<uuid:list_id>/", views.list_detail, name="list-detail"),
    path("contacts/lists/<uuid:list_id>/rename/", views.list_rename, name="list-rename"),
    path("contacts/lists/<uuid:list_id>/delete/", views.list_delete, name="list-delete"),
    path("contacts/lists/<uuid:list_id>/members/", views.list_members, name="list-members"),
    path(
        "contacts/lists/<uuid:list_id>/add-matching/",
        views.list_add_matching,
        name="list-add-matching",
    ),
    path("contacts/<uuid:contact_id>/", views.contact_detail, name="contact-detail"),
    path("contacts/<uuid:contact_id>/edit/", views.contact_edit, name="contact-edit"),
    path("contacts/<uuid:contact_id>/lists/", views.contact_lists_change, name="contact-lists"),
    path(
        "contacts/<uuid:contact_id>/export.json",
        views.contact_data_export,
        name="contact-data-export",
    ),
    path("contacts/<uuid:contact_id>/erase/", views.contact_erase, name="contact-erase"),
]

public_patterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
