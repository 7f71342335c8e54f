from django.apps import AppConfig
from django.core.signals import request_finished

from neonhub.core import logcontext


def _log_context_clear(**kwargs) -> None:
    logcontext.clear()


def _log_context_clear_for_task(task: dict | None = None, **kwargs) -> None:
    # A worker process runs task after task: each starts with no ids and no secrets of the one
    # before (a task run inline, in the caller's process, keeps the caller's).
    if not (task or {}).get("sync"):
        logcontext.clear()


class CoreConfig(AppConfig):
    name = "neonhub.core"
    label = "core"
    verbose_name = "Organizations and access"

    def ready(self) -> None:
        # Imported here, not at the top: django-q2's signals module loads its models.
        from django_q.signals import pre_execute

        # A request's ids leave the log context once its response is closed (after Django has
        # logged a 4xx or 5xx answer), so nothing later in the thread carries them.
        request_finished.connect(_log_context_clear, dispatch_uid="neonhub-log-context")
        pre_execute.connect(_log_context_clear_for_task, dispatch_uid="neonhub-log-context-task")
