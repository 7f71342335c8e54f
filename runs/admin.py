"""Runs in the admin: read-only, filterable, searchable by id, with Retry and Cancel actions.

Retry and Cancel are agents' services (a retry starts a new run through the agent registry),
and ``runs`` must not import ``agents``.  The project settings name them by dotted path
(``NEONHUB_RUN_ACTIONS``), the same way registries name agents and providers; the wiring
lives in the project, not in this app.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.utils.module_loading import import_string

from neonhub.core.errors import NeonHubError
from runs.models import AgentRun, Origin, RunApproval, RunRollup, RunStep


class RunStepInline(admin.TabularInline):
    model = RunStep
    extra = 0
    can_delete = False
    fields = [
        "seq",
        "attempt",
        "name",
        "kind",
        "status",
        "provider",
        "action",
        "http_status",
        "provider_error_code",
        "duration_ms",
        "cost",
        "error",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RunApprovalInline(admin.StackedInline):
    """The approval a held run waited for, and who decided: read only (decisions are made on
    the run page or through the API, which queue or cancel the run with them)."""

    model = RunApproval
    extra = 0
    can_delete = False
    fields = [
        "state",
        "reasons",
        "requested_at",
        "expires_at",
        "decided_by_name",
        "decided_at",
        "note",
        "preview",
        "original_input",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AgentFilter(admin.SimpleListFilter):
    """Agents that have finished runs, read from the rollups: no DISTINCT over every run."""

    title = "agent"
    parameter_name = "agent"

    def lookups(self, request, model_admin):
        agents = RunRollup.objects.values_list("agent", flat=True).distinct().order_by("agent")
        return [(agent, agent) for agent in agents]

    def queryset(self, request, queryset):
        return queryset.filter(agent=self.value()) if self.value() else queryset


class OriginFilter(admin.SimpleListFilter):
    """What started the run: a batch, a schedule, a webhook delivery, another run, or nothing
    of these (a person or an API call)."""

    title = "origin"
    parameter_name = "origin"
    NONE = "none"
    COLUMNS = {
        Origin.BATCH: "batch_id",
        Origin.SCHEDULE: "schedule_id",
        Origin.DELIVERY: "delivery_id",
        Origin.PARENT: "parent_id",
    }

    def lookups(self, request, model_admin):
        return [*Origin.choices, (self.NONE, "None (a person or the API)")]

    def queryset(self, request, queryset):
        if self.value() == self.NONE:
            return queryset.filter(**{f"{c}__isnull": True for c in self.COLUMNS.values()})
        column = self.COLUMNS.get(self.value())
        return queryset.filter(**{f"{column}__isnull": False}) if column else queryset


class CappedCountPaginator(Paginator):
    """Counts the matching runs only up to ``cap``.

    The change list counts its rows on every view; with a million runs that COUNT cost about
    0.3 s.  Past the cap the list says "more than 10,000" (``admin/runs/agentrun/pagination.html``)
    and offers the first ``cap`` rows' pages; the filters narrow it further.
    """

    cap = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.cap + 1].count()


def run_service(name: str):
    return import_string(settings.NEONHUB_RUN_ACTIONS[name])


@admin.register(AgentRun)
class AgentRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "organization",
        "agent",
        "intent",
        "status",
        "error_code",
        "trigger",
        "attempt",
        "created_at",
        "duration_ms",
        "cost",
        "would_cost",
    ]
    list_filter = ["status", "trigger", OriginFilter, AgentFilter, "organization", "created_at"]
    list_select_related = ["organization"]
    search_fields = ["=id"]
    show_full_result_count = False  # no COUNT(*) over all runs besides the filtered one
    paginator = CappedCountPaginator  # and that one counts at most 10,001 rows
    inlines = [RunApprovalInline, RunStepInline]
    actions = ["retry_runs", "cancel_runs"]
    list_per_page = 50

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def get_search_results(self, request, queryset, search_term):
        # An id is a UUID; anything else cannot match (and must not become a database error).
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(pk=uuid.UUID(term)), False
        except ValueError:
            return queryset.none(), False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the record is read-only; actions below are the only way to act on it

    def has_delete_permission(self, request, obj=None):
        return False

    def has_operate_permission(self, request):
        return request.user.has_perm("runs.change_agentrun")

    @admin.action(
        description="Retry selected failed or cancelled runs (as new runs)", permissions=["operate"]
    )
    def retry_runs(self, request, queryset):
        self._each(
            request, queryset, run_service("retry"), "retried as new runs", created_by=request.user
        )

    @admin.action(description="Cancel selected queued or running runs", permissions=["operate"])
    def cancel_runs(self, request, queryset):
        self._each(request, queryset, run_service("cancel"), "cancelled or asked to stop")

    def _each(self, request, queryset, service, done: str, **kwargs) -> None:
        succeeded, refused = 0, []
        for run in queryset.select_related("organization"):
            try:
                service(run=run, **kwargs)
                succeeded += 1
            except NeonHubError as exc:
                refused.append(f"{str(run.id)[:8]}: {exc.message}")
        if succeeded:
            self.message_user(request, f"{succeeded} run(s) {done}.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not done: " + "; ".join(refused[:10]), messages.WARNING)
