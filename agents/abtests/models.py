"""Who an A/B test reaches: the audience snapshotted when it starts.

Taken once, so the split stays put while the segment or list changes, and "the rest" that gets
the winner is exactly the people who were not in the test share.
"""

from __future__ import annotations

from django.db import models


class RecipientGroup(models.TextChoices):
    TEST = "test", "Test share"
    REST = "rest", "The rest"


class ABTestRecipient(models.Model):
    test = models.ForeignKey("agents.ABTest", on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey("audience.Contact", on_delete=models.CASCADE, related_name="+")
    group = models.CharField(max_length=4, choices=RecipientGroup.choices)
    # The variant sent (for the rest: the winner's, once it goes); blank until then.
    variant = models.CharField(max_length=32, blank=True, default="")
    # Place in the test's order (sha256 of test id + contact id): the send order, chunk by chunk.
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["test", "position"]
        constraints = [
            models.UniqueConstraint(fields=["test", "contact"], name="abtestrecipient_unique"),
            models.CheckConstraint(
                condition=models.Q(group__in=RecipientGroup.values),
                name="abtestrecipient_group_valid",
            ),
        ]
        indexes = [
            # One group's recipients in send order (start and the winner's send).
            models.Index(fields=["test", "group", "position"], name="abtestrecipient_group"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.group} of {self.test_id}"
