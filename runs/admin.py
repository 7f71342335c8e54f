from django.contrib import admin

from runs.models import AgentRun, RunStep


class RunStepInline(admin.TabularInline):
    model = RunStep
    extra = 0
    can_delete = False
    fields = ["seq", "attempt", "name", "kind", "status", "provider", "action", "http_status",
              "provider_error_code", "duration_ms", "error"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AgentRun)
class AgentRunAdmin(admin.ModelAdmin):
    list_display = ["id", "organization", "agent", "intent", "status", "trigger", "attempt", "created_at", "duration_ms"]
    list_filter = ["status", "trigger", "agent", "organization", "created_at"]
    list_select_related = ["organization"]
    search_fields = ["=id"]
    show_full_result_count = False  # no COUNT(*) over all runs
    inlines = [RunStepInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_view_permission(request, obj)
