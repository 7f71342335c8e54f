"""``{% campaign_of run as campaign %}``: the campaign a run names, for the run page (the runs
app cannot import campaigns, its template can ask)."""

from __future__ import annotations

from django import template

from agents.campaigns.models import Campaign

register = template.Library()


@register.simple_tag
def campaign_of(run) -> Campaign | None:
    if not getattr(run, "campaign_id", None):
        return None
    # Within the run's organization: a campaign id is never read across organizations.
    return Campaign.objects.filter(organization_id=run.organization_id, pk=run.campaign_id).first()
