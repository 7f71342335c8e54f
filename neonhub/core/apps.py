from django.apps import AppConfig
from django.core.signals import request_finished

from neonhub.core import logcontext


def _log_context_clear(**kwargs) -> None:
    logcontext.clear()


class CoreConfig(AppConfig):
    name = "neonhub.core"
    label = "core"
    verbose_name = "Organizations and access"

    def ready(self) -> None:
        # A request's ids leave the log context once its response is closed (after Django has
        # logged a 4xx or 5xx answer), so nothing later in the thread carries them.
        request_finished.connect(_log_context_clear, dispatch_uid="neonhub-log-context")
