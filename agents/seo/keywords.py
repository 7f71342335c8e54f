"""Keyword research without invented numbers.

Seeds are expanded with the modifiers searchers actually type (questions, comparisons,
buying words), each keyword's search intent is classified from its words, and keywords are
clustered by their head term.  Search volume, difficulty and competition need a real data
source (the Google Ads Keyword Planner); until an organization has one they are ``None``
with ``"source": "none"``, never made up.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from agents.text import STOPWORDS, words

# (modifier template, kind); "{k}" is the seed.  Ordered so that a small limit still covers
# every kind of intent.
MODIFIERS = [
    ("{k}", "seed"),
    ("{k} tools", "commercial"),
    ("how to {k}", "informational"),
    ("{k} pricing", "transactional"),
    ("{k} strategy", "informational"),
    ("best {k} software", "commercial"),
    ("what is {k}", "informational"),
    ("{k} cost", "transactional"),
    ("{k} best practices", "informational"),
    ("{k} vs {alt}", "commercial"),
    ("{k} guide", "informational"),
    ("buy {k}", "transactional"),
    ("{k} examples", "informational"),
    ("{k} services", "commercial"),
    ("{k} checklist", "informational"),
    ("{k} course", "transactional"),
    ("{k} template", "informational"),
    ("{k} software", "commercial"),
    ("{k} for beginners", "informational"),
    ("{k} near me", "transactional"),
    ("{k} tips", "informational"),
    ("{k} agency", "commercial"),
    ("{k} trends", "informational"),
    ("{k} for small business", "commercial"),
]

INTENT_PATTERNS = {
    "transactional": re.compile(
        r"\b(buy|purchase|pricing|price|prices|cost|costs|order|discount|coupon|deal|cheap|"
        r"hire|subscribe|trial|quote|near me|course)\b"
    ),
    "commercial": re.compile(
        r"\b(best|top|vs|versus|review|reviews|compare|comparison|alternative|alternatives|"
        r"software|tools?|services?|agency|agencies|platform|providers?)\b"
    ),
    "informational": re.compile(
        r"\b(how|what|why|when|who|guide|tutorial|tips|examples?|ideas|learn|definition|"
        r"meaning|checklist|template|strategy|best practices|trends|for beginners)\b"
    ),
    "navigational": re.compile(
        r"\b(login|log in|sign in|dashboard|account|app|download|website|official|contact)\b"
    ),
}
# When several patterns match, the stronger buying signal wins.
INTENT_ORDER = ("transactional", "commercial", "navigational", "informational")


def classify_intent(keyword: str, *, brand_terms: tuple[str, ...] = ()) -> tuple[str, float]:
    """Search intent and a confidence in [0, 1] from the keyword's own words."""
    lower = keyword.lower()
    if any(term and term.lower() in lower for term in brand_terms):
        return "navigational", 0.85
    matched = [name for name in INTENT_ORDER if INTENT_PATTERNS[name].search(lower)]
    if not matched:
        # A bare topic ("email marketing") is most often researched, not bought.
        return "informational", 0.5
    confidence = 0.9 if len(matched) == 1 else 0.7
    return matched[0], confidence


def head_term(keyword: str) -> str:
    """The cluster key: the keyword's longest word that is not a stopword (the original's rule)."""
    candidates = [w.lower() for w in words(keyword) if w.lower() not in STOPWORDS and len(w) > 2]
    return max(candidates, key=lambda w: (len(w), w)) if candidates else keyword.lower()


def expand(seeds: list[str], *, limit: int) -> list[dict]:
    """Seeds and their modifier variants, deduplicated, in seed order, at most ``limit``."""
    seen: set[str] = set()
    found: list[dict] = []
    per_seed = max(1, -(-limit // max(1, len(seeds))))
    for seed in seeds:
        clean = " ".join(seed.lower().split())
        alt = "alternatives"
        added = 0
        for template, modifier in MODIFIERS:
            keyword = template.format(k=clean, alt=alt)
            if keyword in seen or added >= per_seed:
                continue
            seen.add(keyword)
            found.append({"keyword": keyword, "seed": clean, "modifier": modifier})
            added += 1
    return found[:limit]


def research(seeds: list[str], *, limit: int, brand_terms: tuple[str, ...] = ()) -> dict:
    keywords = []
    for item in expand(seeds, limit=limit):
        intent, confidence = classify_intent(item["keyword"], brand_terms=brand_terms)
        keywords.append(
            {
                **item,
                "intent": intent,
                "intentConfidence": confidence,
                "wordCount": len(words(item["keyword"])),
                "volume": None,
                "difficulty": None,
                "competition": None,
                "opportunity": None,
                "source": "none",
            }
        )
    return {"keywords": keywords, "clusters": cluster(keywords)}


def cluster(keywords: list[dict]) -> list[dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for item in keywords:
        groups[head_term(item["seed"])].append(item)
    clusters = []
    for head, items in groups.items():
        intents = Counter(i["intent"] for i in items)
        pillar = min(items, key=lambda i: (i["wordCount"], i["keyword"]))["keyword"]
        clusters.append(
            {
                "id": re.sub(r"[^a-z0-9]+", "-", head).strip("-"),
                "label": head,
                "pillar": pillar,
                "keywords": items,
                "intents": dict(intents),
                "dominantIntent": max(intents.items(), key=lambda kv: (kv[1], kv[0]))[0],
            }
        )
    return clusters
