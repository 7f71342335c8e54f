"""The significance check against values worked out by hand."""

from __future__ import annotations

import pytest

from agents.abtests.stats import two_proportion_z, verdict


def test_two_proportion_z_matches_hand_computed_values():
    # 50/200 vs 30/200: pooled p = 0.2, se = sqrt(0.2 * 0.8 * (1/200 + 1/200)) = 0.04,
    # z = (0.25 - 0.15) / 0.04 = 2.5, two-sided p = 2 * (1 - Phi(2.5)) = 0.01242.
    z, p = two_proportion_z(50, 200, 30, 200)
    assert z == pytest.approx(2.5)
    assert p == pytest.approx(0.01242, abs=1e-5)
    # 30/100 vs 20/100: pooled 0.25, se = sqrt(0.25 * 0.75 * 0.02) = 0.06124, z = 1.633, p = 0.1025.
    z, p = two_proportion_z(30, 100, 20, 100)
    assert z == pytest.approx(1.633, abs=1e-3)
    assert p == pytest.approx(0.1025, abs=1e-4)


def test_no_difference_or_no_data_is_p_one():
    assert two_proportion_z(0, 100, 0, 100) == (0.0, 1.0)
    assert two_proportion_z(0, 0, 5, 10) == (0.0, 1.0)


def test_winner_needs_the_chosen_confidence():
    counts = {"A": (30, 100), "B": (20, 100)}  # p = 0.10
    assert verdict(counts, confidence=90).winner == ""
    assert verdict({"A": (50, 200), "B": (30, 200)}, confidence=95).winner == "A"
    assert verdict({"A": (50, 200), "B": (30, 200)}, confidence=99).winner == ""
    assert verdict({"A": (50, 200), "B": (30, 200)}).confidence == pytest.approx(0.98758, abs=1e-5)


def test_more_variants_are_bonferroni_corrected():
    # The leader B against A and C: each p is doubled (two comparisons).
    found = verdict({"A": (30, 200), "B": (50, 200), "C": (31, 200)})
    assert found.leader == "B"
    _, p_a = two_proportion_z(50, 200, 30, 200)
    _, p_c = two_proportion_z(50, 200, 31, 200)
    assert found.p_value == pytest.approx(2 * max(p_a, p_c))
    assert found.winner == "B"  # 2 * 0.0185 = 0.037 < 0.05
    close = verdict({"A": (38, 200), "B": (50, 200), "C": (30, 200)})
    assert close.p_value > 0.05 and close.winner == ""


def test_too_few_delivered_is_not_enough_data():
    found = verdict({"A": (20, 29), "B": (1, 29)})
    assert not found.enough_data and found.winner == "" and found.leader == "A"


def test_a_tie_goes_to_the_first_variant_and_is_no_winner():
    found = verdict({"A": (10, 100), "B": (10, 100)})
    assert found.leader == "A" and found.winner == ""
