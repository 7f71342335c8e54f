from django.urls import path

from agents import review, views, workspace

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
    # The organization's settings pages (agents/workspace.py).
    path("settings/compliance/", workspace.compliance_settings, name="compliance-settings"),
    path("settings/organization/", workspace.organization_settings, name="organization-settings"),
    path("settings/retention/", workspace.retention_settings, name="retention-settings"),
    path("settings/brands/", workspace.brands, name="brands"),
    path("settings/brands/new/", workspace.brand_new, name="brand-new"),
    path("settings/brands/<uuid:brand_id>/", workspace.brand_edit, name="brand-edit"),
    path("settings/brands/<uuid:brand_id>/delete/", workspace.brand_delete, name="brand-delete"),
    path("settings/knowledge/", workspace.knowledge_list, name="knowledge"),
    path("settings/knowledge/new/", workspace.knowledge_new, name="knowledge-new"),
    path("settings/knowledge/preview/", workspace.knowledge_preview, name="knowledge-preview"),
    path("settings/knowledge/<uuid:article_id>/", workspace.knowledge_edit, name="knowledge-edit"),
    path(
        "settings/knowledge/<uuid:article_id>/delete/",
        workspace.knowledge_delete,
        name="knowledge-delete",
    ),
]
