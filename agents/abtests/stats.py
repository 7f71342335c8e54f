"""The significance check of an A/B test: a two-proportion z-test (pooled), Bonferroni-corrected.

With more than two variants the leader is compared with each other variant; each comparison
must pass at ``alpha / (k - 1)``.  A variant with fewer than ``min_sample`` delivered messages
means "not enough data": no winner is declared however large the difference looks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

MIN_SAMPLE = 30
_NORMAL = NormalDist()


def two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """``(z, two-sided p)`` for x1/n1 against x2/n2, with the pooled standard error."""
    if n1 <= 0 or n2 <= 0:
        return 0.0, 1.0
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:  # both 0% or both 100%: no difference to speak of
        return 0.0, 1.0
    z = (x1 / n1 - x2 / n2) / se
    return z, 2 * (1 - _NORMAL.cdf(abs(z)))


@dataclass(frozen=True)
class Verdict:
    leader: str  # the variant with the highest rate ("" when nothing was delivered)
    winner: str  # the leader when it is significantly better than every other, else ""
    p_value: float | None  # the largest Bonferroni-adjusted p of the leader's comparisons
    enough_data: bool
    comparisons: dict  # other variant -> {"z", "p"} (unadjusted)

    @property
    def confidence(self) -> float | None:
        """1 - adjusted p, as a share (0.98 for "98% confidence")."""
        return None if self.p_value is None else max(0.0, 1 - self.p_value)


def verdict(
    counts: dict[str, tuple[int, int]], *, confidence: int = 95, min_sample: int = MIN_SAMPLE
) -> Verdict:
    """``counts`` maps a variant to ``(successes, trials)``; the winner at ``confidence`` %."""
    rates = {k: (x / n if n else 0.0) for k, (x, n) in counts.items()}
    if not counts or not any(n for _, n in counts.values()):
        return Verdict("", "", None, False, {})
    # Highest rate first; a tie goes to the earlier variant.
    leader = max(counts, key=lambda k: (rates[k], -list(counts).index(k)))
    others = [k for k in counts if k != leader]
    x1, n1 = counts[leader]
    comparisons = {}
    for k in others:
        z, p = two_proportion_z(x1, n1, *counts[k])
        comparisons[k] = {"z": round(z, 4), "p": p}
    adjusted = max((c["p"] * len(others) for c in comparisons.values()), default=1.0)
    adjusted = min(1.0, adjusted)
    enough = all(n >= min_sample for _, n in counts.values())
    alpha = 1 - confidence / 100
    won = enough and bool(others) and all(rates[leader] > rates[k] for k in others)
    winner = leader if won and adjusted < alpha else ""
    return Verdict(leader, winner, adjusted, enough, comparisons)
