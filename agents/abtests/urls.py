"""The A/B test pages (namespace ``abtests``), in the Email area."""

from django.urls import path

from agents.abtests import views

app_name = "abtests"

urlpatterns = [
    path("email/ab-tests/", views.abtest_list, name="list"),
    path("email/ab-tests/new/", views.abtest_new, name="new"),
    path("email/ab-tests/audience-count/", views.audience_count, name="audience-count"),
    path(
        "email/ab-tests/for-campaign/<uuid:campaign_id>/",
        views.abtest_for_campaign,
        name="for-campaign",
    ),
    path("email/ab-tests/<uuid:test_id>/", views.abtest_detail, name="detail"),
    path("email/ab-tests/<uuid:test_id>/results/", views.abtest_results, name="results"),
    path("email/ab-tests/<uuid:test_id>/start/", views.abtest_start, name="start"),
    path("email/ab-tests/<uuid:test_id>/pick/", views.abtest_pick, name="pick"),
    path("email/ab-tests/<uuid:test_id>/cancel/", views.abtest_cancel, name="cancel"),
]
