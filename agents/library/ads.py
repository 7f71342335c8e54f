"""AdsAgent: a Google Ads digest per campaign, and budget changes behind an approval.

Both read the organization's ``google_ads`` connector through the run's connector handles, so
each report or budget read is a recorded step.  ``budget-change`` always waits for a person's
approval (``Intent.always_approve``), whatever the organization's approval settings say: its
preview reads the budget as it is now (old → new amount a day, the campaigns sharing it) and
nothing is changed until someone approves; a rejected run changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils import timezone
from pydantic import Field, field_validator, model_validator

from agents.ads import digest as maths
from agents.base import Agent, IntentInput, intent
from agents.checks import Checks, connector_ready
from agents.context import RunContext
from connectors.selectors import connector_for
from connectors.services import connector_execute
from neonhub.core.errors import ConnectorRejected, InvalidInput, NeonHubError, PolicyBlocked
from neonhub.core.models import Organization
from neonhub.core.recording import NullRecorder

PROVIDER = "google_ads"
MAX_DIGEST_RECIPIENTS = 20  # people who read the report, not a mailing list
MAX_DAYS = 93  # a quarter: the report covers twice the period (this one and the one before)


class DigestIn(IntentInput):
    start: date | None = Field(default=None, description="First day; with an end day")
    end: date | None = Field(default=None, description="Last day, included")
    days: int = Field(
        default=7, ge=1, le=MAX_DAYS, description="Without dates: the last this many whole days"
    )
    connector: str | None = Field(default=None, max_length=200)
    emailTo: list[str] = Field(
        default_factory=list,
        max_length=MAX_DIGEST_RECIPIENTS,
        description="Email the summary to these addresses (through the email connector)",
    )

    @field_validator("emailTo")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for address in value:
            try:
                validate_email(address)
            except DjangoValidationError:
                raise ValueError(f"“{address[:60]}” is not an email address") from None
        return list(dict.fromkeys(a.lower() for a in value))

    @model_validator(mode="after")
    def _dates(self) -> DigestIn:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both a start day and an end day, or neither")
        if self.start and self.end:
            if self.start > self.end:
                raise ValueError("the start day must be on or before the end day")
            if (self.end - self.start).days + 1 > MAX_DAYS:
                raise ValueError(f"a period can be at most {MAX_DAYS} days")
        return self

    def period(self, today: date) -> maths.Period:
        if self.start and self.end:
            return maths.Period(start=self.start, end=self.end)
        return maths.default_period(today, self.days)


class BudgetChangeIn(IntentInput):
    budgetId: str = Field(pattern=r"^\d{1,20}$", description="The Google Ads budget's id")
    amountPerDay: float = Field(gt=0, le=1_000_000, description="The new amount a day")
    connector: str | None = Field(default=None, max_length=200)

    @field_validator("amountPerDay")
    @classmethod
    def _cents(cls, value: float) -> float:
        if Decimal(str(value)).as_tuple().exponent < -2:
            raise ValueError("can have at most 2 decimals, like 65.50")
        return value


def micros(amount: float) -> int:
    return int((Decimal(str(amount)) * maths.MICROS).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def budget_find(budgets: list[dict], budget_id: str) -> dict:
    for budget in budgets:
        if str(budget.get("budget_id")) == budget_id:
            return budget
    raise InvalidInput.for_field(
        "payload.budgetId",
        f"no budget {budget_id} in this Google Ads account",
        summary=f"The Google Ads account has no budget {budget_id}",
    )


def budget_change_plan(budget: dict, new_micros: int) -> dict:
    """What a budget change does, in words and figures (the preview and the run's output)."""
    old = int(budget.get("amount_micros") or 0)
    campaigns = [str(c) for c in budget.get("campaign_ids") or []]
    name = str(budget.get("name") or budget.get("budget_id"))
    period = str(budget.get("period") or "DAILY")
    return {
        "budget_id": str(budget.get("budget_id")),
        "name": name,
        "period": period,
        "old_amount": float(maths.money(old)),
        "new_amount": float(maths.money(new_micros)),
        "old_amount_micros": old,
        "new_amount_micros": new_micros,
        "change": maths.change(new_micros, old),
        "campaign_ids": campaigns,
    }


def campaign_names(search: Callable[[dict], dict], campaign_ids: list[str]) -> dict[str, str]:
    """Campaign id → name through the connector's ``search`` (GAQL), for the approver to read
    names rather than ids.  Google's REST answers results as ``{"campaign": {"id", "name"}}``
    (int64 ids as strings).  Without an answer the ids are shown: nothing depends on it."""
    ids = [c for c in campaign_ids if c.isdigit()][:50]
    if not ids:
        return {}
    # Only digits reach the query (checked above), so nothing can be injected into GAQL.
    listed = ", ".join(ids)
    query = f"SELECT campaign.id, campaign.name FROM campaign WHERE campaign.id IN ({listed})"  # noqa: S608
    try:
        rows = search({"query": query}).get("rows")
    except NeonHubError:
        return {}
    names = {}
    for row in rows if isinstance(rows, list) else []:
        campaign = row.get("campaign") if isinstance(row, dict) else None
        if isinstance(campaign, dict) and campaign.get("id") and campaign.get("name"):
            names[str(campaign["id"])] = str(campaign["name"])
    return names


def budget_change_preview(data: BudgetChangeIn, organization: Organization) -> dict:
    """Read the budget as it is now, before the run exists: the approver sees old → new.

    A read through the connector layer without a run (as the start form reads TikTok's
    options): nothing is changed, and the run reads the budget again when it is approved.
    """
    try:
        connector = connector_for(organization=organization, provider=PROVIDER, name=data.connector)
        result = connector_execute(
            connector=connector, action="campaign_budgets", input={}, recorder=NullRecorder()
        )
    except InvalidInput:
        raise
    except NeonHubError as exc:
        # Without the budget as it is now there is nothing to approve: refused, naming why.
        raise InvalidInput.for_field(
            "payload.connector",
            f"the budgets could not be read for the preview: {exc.message}",
            summary=f"Google Ads could not be read to preview the change: {exc.message}",
        ) from exc
    plan = budget_change_plan(
        budget_find(result.output.get("budgets") or [], data.budgetId), micros(data.amountPerDay)
    )
    names = campaign_names(
        lambda data: (
            connector_execute(
                connector=connector, action="search", input=data, recorder=NullRecorder()
            ).output
        ),
        plan["campaign_ids"],
    )
    shared = ", ".join(names.get(c, c) for c in plan["campaign_ids"]) or "no campaign"
    per = "a day" if plan["period"] == "DAILY" else plan["period"].lower()
    return {
        "summary": (
            f"Change the Google Ads budget “{plan['name']}” from {plan['old_amount']:,.2f} "
            f"to {plan['new_amount']:,.2f} {per}"
        ),
        "recipients": None,
        "items": [
            {
                "to": f"Budget “{plan['name']}” ({plan['budget_id']})",
                "action": "campaign_budget_update",
                "content": {
                    "Now": f"{plan['old_amount']:,.2f} {per}",
                    "After approval": f"{plan['new_amount']:,.2f} {per}",
                    "Change": maths.percent(plan["change"], signed=True),
                    "Campaigns sharing this budget": shared,
                    "Connector": f"{connector.name}{' (sandbox)' if connector.is_sandbox else ''}",
                },
            }
        ],
        "more": 0,
        "plan": plan,
    }


def budget_choices(organization: Organization) -> tuple[list[tuple[str, str]], str]:
    """The account's budgets as (id, "name: amount a day (campaigns)") for the start form, or
    an empty list and why not.  A read outside a run, as the form reads TikTok's options."""
    connector = connector_for(organization=organization, provider=PROVIDER, required=False)
    if connector is None:
        return [], "no Google Ads connector yet"
    try:
        result = connector_execute(
            connector=connector, action="campaign_budgets", input={}, recorder=NullRecorder()
        )
    except NeonHubError as exc:
        return [], exc.message
    choices = []
    for budget in result.output.get("budgets") or []:
        plan = budget_change_plan(budget, 0)
        per = "a day" if plan["period"] == "DAILY" else plan["period"].lower()
        count = len(plan["campaign_ids"])
        choices.append(
            (
                plan["budget_id"],
                f"{plan['name']}: {plan['old_amount']:,.2f} {per}, "
                f"{count} campaign{'' if count == 1 else 's'}",
            )
        )
    return choices, ""


class AdsAgent(Agent):
    slug = "ads"
    name = "AdsAgent"
    version = "1.0.0"
    description = "Google Ads: a digest of spend and results per campaign, and budget changes."

    def preflight_digest(self, data: DigestIn, *, organization: Organization) -> None:
        self._connector_check(data.connector, organization, "read the campaigns")
        if data.emailTo:
            checks = Checks("The run was not started")
            connector_ready(
                checks,
                organization=organization,
                provider="smtp_email",
                field="payload.emailTo",
                purpose="email the summary",
            )
            checks.raise_any()

    def preflight_budget_change(self, data: BudgetChangeIn, *, organization: Organization) -> None:
        self._connector_check(data.connector, organization, "change a budget")

    @staticmethod
    def _connector_check(name: str | None, organization: Organization, purpose: str) -> None:
        checks = Checks("The run was not started")
        connector_ready(
            checks,
            organization=organization,
            provider=PROVIDER,
            name=name,
            field="payload.connector",
            purpose=purpose,
        )
        checks.raise_any()

    @intent("digest", DigestIn, "Spend, clicks, CTR, CPC, conversions and pacing per campaign")
    def digest(self, ctx: RunContext, data: DigestIn) -> dict:
        today = timezone.localdate(timezone=ctx.organization.tz)
        period = data.period(today)
        handle = ctx.connector(PROVIDER, name=data.connector)
        previous = period.previous()
        report = handle.call(
            "campaign_report",
            {"start_date": previous.start.isoformat(), "end_date": period.end.isoformat()},
        ).output
        currency = str(report.get("currency") or "")
        with ctx.step("compute digest") as rec:
            found = maths.campaign_digest(list(report.get("rows") or []), period)
            rec.detail = {
                "rows": len(report.get("rows") or []),
                "campaigns": len(found["campaigns"]),
            }
        totals = found["totals"]
        ctx.metrics.update(
            campaigns=len(found["campaigns"]), spend=totals["spend"], clicks=totals["clicks"]
        )
        summary = maths.summary_text(found, currency)
        emailed = self._email(ctx, data, period, summary) if data.emailTo else []
        return {
            **found,
            "currency": currency,
            "connector": handle.connector.name,
            "sandbox": handle.sandbox,
            "summary": summary,
            "emailed": emailed,
        }

    @staticmethod
    def _email(ctx: RunContext, data: DigestIn, period: maths.Period, summary: str) -> list[dict]:
        """The summary to each address through the email connector.  Each message passes the
        compliance gate like any other email (an address on the suppression list, or a contact
        who revoked email consent, is not written to); a blocked or refused address is
        reported and the digest still completes."""
        handle = ctx.connector("smtp_email")
        subject = f"Google Ads digest, {period.start:%-d %b} to {period.end:%-d %b %Y}"
        sent = []
        for address in data.emailTo:
            try:
                result = handle.call(
                    "send_email",
                    {"to": address, "subject": subject, "text": summary},
                    key=f"digest:{period.start}:{period.end}:{address}",
                )
            except (PolicyBlocked, ConnectorRejected) as exc:
                if exc.transient:
                    raise  # quiet hours: the run waits for their end
                sent.append({"email": address, "status": "skipped", "message": exc.message})
                continue
            sent.append({"email": address, "status": result.status, "message": ""})
        return sent

    @intent(
        "budget-change",
        BudgetChangeIn,
        "Change a campaign budget's amount a day, after a person approves it",
        side_effects=True,
        preview=budget_change_preview,
        always_approve="Changing a Google Ads budget always needs approval",
    )
    def budget_change(self, ctx: RunContext, data: BudgetChangeIn) -> dict:
        handle = ctx.connector(PROVIDER, name=data.connector)
        budgets = handle.call("campaign_budgets", {}).output.get("budgets") or []
        plan = budget_change_plan(budget_find(budgets, data.budgetId), micros(data.amountPerDay))
        names = campaign_names(lambda q: handle.call("search", q).output, plan["campaign_ids"])
        result = handle.call(
            "campaign_budget_update",
            {"budget_id": data.budgetId, "amount_micros": plan["new_amount_micros"]},
            key=f"budget:{data.budgetId}",
        )
        ctx.metrics.update(budgetId=data.budgetId, sandbox=handle.sandbox)
        return {
            **plan,
            "campaigns": [{"id": c, "name": names.get(c, c)} for c in plan["campaign_ids"]],
            "updated": result.output,
            "connector": handle.connector.name,
            "sandbox": handle.sandbox,
            "status": result.status,
            "already_sent_in_run": (
                str(result.already_sent_in_run) if result.already_sent_in_run else None
            ),
        }
