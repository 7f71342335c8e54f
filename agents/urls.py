from django.urls import path

from agents import review, views

app_name = "agents"

urlpatterns = [
    path("runs/new/", views.run_new, name="run-new"),
    path("runs/<uuid:run_id>/cancel/", views.run_cancel, name="run-cancel"),
    path("runs/<uuid:run_id>/retry/", views.run_retry, name="run-retry"),
    path("runs/<uuid:run_id>/rerun/", views.run_rerun, name="run-rerun"),
    path("runs/<uuid:run_id>/outbox/", views.run_outbox, name="run-outbox"),
    # Approvals and drafts (agents/review.py).
    path("approvals/", review.approvals_inbox, name="approvals"),
    path("settings/approvals/", review.approval_settings, name="approval-settings"),
    path("runs/<uuid:run_id>/approve/", review.run_approve, name="run-approve"),
    path("runs/<uuid:run_id>/approve/edit/", review.run_approve_edit, name="run-approve-edit"),
    path("runs/<uuid:run_id>/reject/", review.run_reject, name="run-reject"),
    path("drafts/", review.draft_list, name="draft-list"),
    path("drafts/<uuid:draft_id>/", review.draft_detail, name="draft-detail"),
    path("drafts/<uuid:draft_id>/edit/", review.draft_edit, name="draft-edit"),
    path("drafts/<uuid:draft_id>/approve/", review.draft_approve, name="draft-approve"),
]
