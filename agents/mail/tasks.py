"""django-q2 entry points of mail: the five-minute check of the bounce mailboxes."""

from __future__ import annotations

import time

from django.db.models import F
from django_q.models import Schedule

from agents.mail import mailbox as imap
from agents.mail.models import BounceMailbox

BOUNCE_TASK_NAME = "neonhub-mail-bounces"
# One run's share of the five minutes: mailboxes not reached wait for the next run (the least
# recently checked go first, so none is starved).
RUN_SECONDS = 180.0


def bounce_mailboxes_fetch() -> dict:
    """Every five minutes: read each enabled bounce mailbox's unread messages."""
    started = time.monotonic()
    done = {"mailboxes": 0, "processed": 0, "errors": 0}
    due = (
        BounceMailbox.objects.filter(enabled=True)
        .exclude(host="")
        .select_related("organization")
        .order_by(F("last_checked_at").asc(nulls_first=True))
    )
    for mailbox in due:
        if time.monotonic() - started > RUN_SECONDS:
            break
        counts = imap.mailbox_fetch(mailbox=mailbox)
        done["mailboxes"] += 1
        done["processed"] += counts["processed"]
        done["errors"] += 1 if counts["error"] else 0
    return done


def ensure_schedules() -> None:
    """Create the five-minute task once; safe to call at every start."""
    Schedule.objects.update_or_create(
        name=BOUNCE_TASK_NAME,
        defaults={
            "func": "agents.mail.tasks.bounce_mailboxes_fetch",
            "schedule_type": Schedule.MINUTES,
            "minutes": 5,
            "repeats": -1,
        },
    )
