"""The campaigns pages (namespace ``campaigns``)."""

from django.urls import path

from agents.campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("campaigns/", views.campaign_list, name="list"),
    path("campaigns/new/", views.campaign_new, name="new"),
    path("campaigns/<uuid:campaign_id>/", views.campaign_detail, name="detail"),
    path("campaigns/<uuid:campaign_id>/edit/", views.campaign_edit, name="edit"),
    path("campaigns/<uuid:campaign_id>/delete/", views.campaign_delete, name="delete"),
    path("campaigns/<uuid:campaign_id>/numbers/", views.campaign_numbers, name="numbers"),
    path("campaigns/<uuid:campaign_id>/conversions/", views.conversion_add, name="conversion-add"),
]
