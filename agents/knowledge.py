"""Ranking knowledge-base articles against a customer's message (Okapi BM25).

Title and tags count double, since they name what an article is about.  The confidence of
the best match is how much of the message it covers: half over the message's words the
knowledge base knows at all, half over all its meaningful words (so "how long does
delivery take" is well covered by a delivery article, while a message about something the
knowledge base never mentions is not), damped when the runner-up scores almost as well.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from agents.text import tokens

K1 = 1.5
B = 0.75


@dataclass(frozen=True)
class Match:
    article: Any
    score: float
    coverage: float


def _document(article: Any) -> list[str]:
    tags = " ".join(str(t) for t in (article.tags or []))
    return tokens(f"{article.title} {article.title} {tags} {tags} {article.body}")


def _stem(word: str) -> str:
    """A light plural stem so "invoices" finds "invoice"."""
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def rank(query: str, articles: list[Any], *, limit: int = 3) -> list[Match]:
    terms = list(dict.fromkeys(_stem(t) for t in tokens(query)))
    if not terms or not articles:
        return []
    docs = [[_stem(t) for t in _document(a)] for a in articles]
    average = sum(len(d) for d in docs) / len(docs) or 1.0
    frequency = Counter(term for d in docs for term in set(d))
    matches = []
    for article, doc in zip(articles, docs, strict=True):
        counts = Counter(doc)
        score = 0.0
        for term in terms:
            if not counts[term]:
                continue
            idf = math.log(1 + (len(docs) - frequency[term] + 0.5) / (frequency[term] + 0.5))
            tf = counts[term]
            score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * len(doc) / average))
        if score > 0:
            known = [term for term in terms if frequency[term]]
            matched = sum(1 for term in terms if counts[term])
            coverage = 0.5 * matched / len(known) + 0.5 * matched / len(terms)
            matches.append(
                Match(article=article, score=round(score, 4), coverage=round(coverage, 3))
            )
    matches.sort(key=lambda m: (-m.score, str(m.article.title)))
    return matches[:limit]


def confidence(matches: list[Match]) -> float:
    if not matches:
        return 0.0
    best = matches[0]
    margin = (
        1.0 if len(matches) == 1 else min(1.0, (best.score - matches[1].score) / best.score + 0.5)
    )
    return round(best.coverage * margin, 3)
