from __future__ import annotations

import pytest

from agents import text


@pytest.mark.parametrize(
    "word, count",
    [
        # Dictionary counts (textstat: CMU Pronouncing Dictionary, then Pyphen).  The vowel-group
        # heuristic used before said 3, 1, 1 and 1 for the first four.
        ("business", 2),
        ("create", 2),
        ("poem", 2),
        ("naive", 2),
        ("table", 2),
        ("make", 1),
        ("hmm", 1),  # the dictionary has no vowel in it; a word still has one syllable
    ],
)
def test_syllables_come_from_the_pronouncing_dictionary(word, count):
    assert text.syllables(word) == count


def test_readability_reports_the_counts_behind_its_scores():
    # 15 syllables by the dictionary (14 by the old heuristic: 70.7 and grade 4.5).
    assert text.readability("Create a business plan. Every poem needs a reader.") == {
        "fleschReadingEase": 61.3,
        "fleschKincaidGrade": 5.8,
        "words": 9,
        "sentences": 2,
        "syllables": 15,
        "label": "plain English",
    }
