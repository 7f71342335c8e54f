"""The analytics pages."""

from django.urls import path

from agents.analytics import views

app_name = "analytics"

urlpatterns = [
    path("analytics/", views.analytics_home, name="home"),
    path("analytics/posts/<uuid:post_id>/", views.post_detail, name="post-detail"),
    path("analytics/runs/<uuid:run_id>/posts/", views.run_posts, name="run-posts"),
]
