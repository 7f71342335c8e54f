from django.urls import path

from neonhub.alerts import views

app_name = "alerts"

urlpatterns = [
    path("", views.alert_list, name="list"),
    path("rules/new/", views.rule_new, name="rule-new"),
    path("rules/<uuid:rule_id>/", views.rule_detail, name="rule"),
    path("rules/<uuid:rule_id>/delete/", views.rule_delete, name="rule-delete"),
    path("destinations/<uuid:destination_id>/", views.destination_edit, name="destination-edit"),
    path(
        "destinations/<uuid:destination_id>/test/", views.destination_test, name="destination-test"
    ),
    path(
        "destinations/<uuid:destination_id>/delete/",
        views.destination_delete,
        name="destination-delete",
    ),
    path("deliveries/", views.delivery_log, name="deliveries"),
]
