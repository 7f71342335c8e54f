from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "agents.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns: what a team sends for one initiative, and how it did"
