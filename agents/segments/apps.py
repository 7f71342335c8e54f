from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "agents.segments"
    label = "segments"
    verbose_name = "Segments: saved filters on contacts"
