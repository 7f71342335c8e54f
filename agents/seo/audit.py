"""On-page SEO audit of real HTML: what is there, what is wrong, and what to fix first.

``audit_html`` parses a page with BeautifulSoup and reports the title and meta description
lengths, headings, word count, keyword placement and density, image alt coverage, links,
canonical, robots, Open Graph and Twitter tags, structured data and readability; then a
score out of 100 and recommendations sorted by priority.  Thresholds follow the search
engines' published guidance and common practice (titles are cut at about 60 characters,
descriptions at about 160).
"""

from __future__ import annotations

import json
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from agents import text as t

TITLE_RANGE = (30, 60)
DESCRIPTION_RANGE = (70, 160)
DENSITY_RANGE = (0.5, 3.0)
THIN_CONTENT_WORDS = 300
OG_REQUIRED = ("og:title", "og:description", "og:image", "og:url", "og:type")
TWITTER_TAGS = ("twitter:card", "twitter:title", "twitter:description", "twitter:image")
PRIORITY_ORDER = {"high": 0, "medium": 1, "low": 2}
# Points taken off the score per issue, by priority.
PENALTY = {"high": 12, "medium": 6, "low": 2}


def audit_html(
    html: str | bytes,
    *,
    url: str | None = None,
    keyword: str | None = None,
    headers: dict | None = None,
) -> dict:
    soup = BeautifulSoup(html, "html.parser")
    for node in soup(["script", "style", "noscript", "template", "svg"]):
        if not (node.name == "script" and node.get("type") == "application/ld+json"):
            node.extract()
    body_text = _visible_text(soup)
    report = {
        "url": url,
        "title": _title(soup),
        "metaDescription": _meta_description(soup),
        "headings": _headings(soup),
        "content": {"wordCount": len(t.words(body_text)), "language": _lang(soup)},
        "images": _images(soup),
        "links": _links(soup, url),
        "canonical": _canonical(soup, url),
        "robots": _robots(soup, headers or {}),
        "openGraph": _meta_group(soup, OG_REQUIRED, attr="property", prefix="og:"),
        "twitter": _meta_group(soup, TWITTER_TAGS, attr="name", prefix="twitter:"),
        "structuredData": _structured_data(soup),
        "viewport": bool(soup.find("meta", attrs={"name": "viewport"})),
        "readability": t.readability(body_text),
    }
    report["keyword"] = _keyword(report, soup, body_text, keyword, url) if keyword else None
    issues = _issues(report)
    report["issues"] = issues
    report["score"] = max(0, 100 - sum(PENALTY[i["priority"]] for i in issues))
    return report


def recommendations(issues: list[dict]) -> list[dict]:
    ordered = sorted(issues, key=lambda i: (PRIORITY_ORDER[i["priority"]], i["check"]))
    return [{"priority": i["priority"], "check": i["check"], "message": i["fix"]} for i in ordered]


def _visible_text(soup: BeautifulSoup) -> str:
    root = soup.body or soup
    return " ".join(
        s.strip()
        for s in root.find_all(string=True)
        if s.strip() and not (s.parent and s.parent.name in ("script", "title"))
    )


def _title(soup: BeautifulSoup) -> dict:
    node = soup.find("title")
    value = " ".join(node.get_text().split()) if node else ""
    return {"text": value, "length": len(value), "count": len(soup.find_all("title"))}


def _meta_content(soup: BeautifulSoup, **attrs: str) -> str | None:
    node = soup.find("meta", attrs=attrs)
    return " ".join(str(node.get("content", "")).split()) if node else None


def _meta_description(soup: BeautifulSoup) -> dict:
    value = _meta_content(soup, name="description")
    return {"text": value or "", "length": len(value or ""), "present": value is not None}


def _headings(soup: BeautifulSoup) -> dict:
    found = [
        (int(h.name[1]), " ".join(h.get_text().split()))
        for h in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6"])
    ]
    skipped = [
        f"h{a} → h{b}" for (a, _), (b, _) in zip(found, found[1:], strict=False) if b > a + 1
    ]
    return {
        "h1": [text for level, text in found if level == 1],
        "counts": {f"h{n}": sum(1 for level, _ in found if level == n) for n in range(1, 7)},
        "outline": [{"level": level, "text": text[:120]} for level, text in found[:50]],
        "skippedLevels": skipped,
    }


def _lang(soup: BeautifulSoup) -> str | None:
    node = soup.find("html")
    return (node.get("lang") or None) if isinstance(node, Tag) else None


def _images(soup: BeautifulSoup) -> dict:
    images = soup.find_all("img")
    missing = [img.get("src", "")[:200] for img in images if img.get("alt") is None]
    decorative = sum(1 for img in images if img.get("alt") is not None and not img["alt"].strip())
    with_alt = len(images) - len(missing) - decorative
    coverage = round(100 * (len(images) - len(missing)) / len(images), 1) if images else 100.0
    return {
        "total": len(images),
        "withAlt": with_alt,
        "decorative": decorative,
        "missingAlt": len(missing),
        "missingAltSources": missing[:20],
        "altCoverage": coverage,
    }


def _links(soup: BeautifulSoup, url: str | None) -> dict:
    host = urlsplit(url).hostname if url else None
    internal = external = nofollow = empty = 0
    for a in soup.find_all("a", href=True):
        href = a["href"].strip()
        if href.startswith(("#", "mailto:", "tel:", "javascript:")):
            continue
        target = urlsplit(urljoin(url or "", href))
        if target.hostname and target.hostname != host:
            external += 1
        else:
            internal += 1
        if "nofollow" in (a.get("rel") or []):
            nofollow += 1
        if not a.get_text(strip=True) and not a.find("img", alt=True):
            empty += 1
    return {"internal": internal, "external": external, "nofollow": nofollow, "emptyAnchor": empty}


def _canonical(soup: BeautifulSoup, url: str | None) -> dict:
    nodes = [n for n in soup.find_all("link", href=True) if "canonical" in (n.get("rel") or [])]
    href = nodes[0]["href"].strip() if nodes else None
    absolute = bool(href and urlsplit(href).scheme in ("http", "https"))
    self_ref = bool(href and url and urljoin(url, href).rstrip("/") == url.rstrip("/"))
    return {"href": href, "count": len(nodes), "absolute": absolute, "selfReferencing": self_ref}


def _robots(soup: BeautifulSoup, headers: dict) -> dict:
    meta = (_meta_content(soup, name="robots") or "").lower()
    header = str({k.lower(): v for k, v in headers.items()}.get("x-robots-tag", "")).lower()
    directives = {d.strip() for d in f"{meta},{header}".split(",") if d.strip()}
    return {
        "meta": meta or None,
        "header": header or None,
        "noindex": "noindex" in directives or "none" in directives,
        "nofollow": "nofollow" in directives or "none" in directives,
    }


def _meta_group(soup: BeautifulSoup, names: tuple[str, ...], *, attr: str, prefix: str) -> dict:
    tags: dict[str, str] = {}
    for node in soup.find_all("meta"):
        key = str(node.get(attr) or node.get("name") or node.get("property") or "")
        if key.startswith(prefix) and key not in tags:
            tags[key] = " ".join(str(node.get("content", "")).split())
    return {"tags": tags, "missing": [n for n in names if not tags.get(n)]}


def _structured_data(soup: BeautifulSoup) -> dict:
    types: list[str] = []
    invalid = 0
    blocks = soup.find_all("script", attrs={"type": "application/ld+json"})
    for block in blocks:
        try:
            data = json.loads(block.string or block.get_text() or "")
        except ValueError:
            invalid += 1
            continue
        items = (
            data
            if isinstance(data, list)
            else data.get("@graph", [data])
            if isinstance(data, dict)
            else []
        )
        for item in items:
            kind = item.get("@type") if isinstance(item, dict) else None
            types += kind if isinstance(kind, list) else [kind] if kind else []
    microdata = [
        str(n.get("itemtype")).rsplit("/", 1)[-1] for n in soup.find_all(attrs={"itemtype": True})
    ]
    return {
        "jsonLd": len(blocks),
        "invalidJsonLd": invalid,
        "types": sorted(set(map(str, types))),
        "microdataTypes": sorted(set(microdata)),
    }


def _keyword(
    report: dict, soup: BeautifulSoup, body_text: str, keyword: str, url: str | None
) -> dict:
    first_100 = " ".join(t.words(body_text)[:100])
    alts = " ".join(str(img.get("alt", "")) for img in soup.find_all("img"))
    h2s = " ".join(o["text"] for o in report["headings"]["outline"] if o["level"] >= 2)
    slug = urlsplit(url).path.replace("-", " ").replace("_", " ") if url else ""
    return {
        "keyword": keyword,
        "occurrences": t.phrase_count(body_text, keyword),
        "density": t.keyword_density(body_text, keyword),
        "inTitle": t.contains_phrase(report["title"]["text"], keyword),
        "inMetaDescription": t.contains_phrase(report["metaDescription"]["text"], keyword),
        "inH1": any(t.contains_phrase(h, keyword) for h in report["headings"]["h1"]),
        "inSubheadings": t.contains_phrase(h2s, keyword),
        "inFirst100Words": t.contains_phrase(first_100, keyword),
        "inUrl": t.contains_phrase(slug, keyword) if url else None,
        "inImageAlt": t.contains_phrase(alts, keyword),
    }


def _issue(check: str, priority: str, fix: str) -> dict:
    return {"check": check, "priority": priority, "fix": fix}


def _issues(r: dict) -> list[dict]:
    issues: list[dict] = []
    issues += _head_issues(r)
    issues += _content_issues(r)
    issues += _social_issues(r)
    if r["keyword"]:
        issues += _keyword_issues(r["keyword"])
    return issues


def _head_issues(r: dict) -> list[dict]:
    out = []
    title, low, high = r["title"], *TITLE_RANGE
    if not title["length"]:
        out.append(
            _issue(
                "title",
                "high",
                "Add a <title> that names the page's topic and keyword (30-60 characters).",
            )
        )
    elif not low <= title["length"] <= high:
        out.append(
            _issue(
                "title",
                "medium",
                f"Make the title {low}-{high} characters long; it is {title['length']}.",
            )
        )
    if title["count"] > 1:
        out.append(_issue("title", "low", "Keep a single <title> element."))
    desc, low, high = r["metaDescription"], *DESCRIPTION_RANGE
    if not desc["length"]:
        out.append(
            _issue(
                "metaDescription",
                "high",
                "Add a meta description of 70-160 characters that sums up the page.",
            )
        )
    elif not low <= desc["length"] <= high:
        out.append(
            _issue(
                "metaDescription",
                "medium",
                f"Make the meta description {low}-{high} characters; it is {desc['length']}.",
            )
        )
    if r["robots"]["noindex"]:
        out.append(
            _issue(
                "robots",
                "high",
                "The page asks not to be indexed (noindex); remove it if the page should rank.",
            )
        )
    canonical = r["canonical"]
    if canonical["count"] == 0:
        out.append(
            _issue(
                "canonical", "medium", 'Add a <link rel="canonical"> with the page\'s absolute URL.'
            )
        )
    elif canonical["count"] > 1:
        out.append(
            _issue(
                "canonical",
                "high",
                "Keep exactly one canonical link; several confuse search engines.",
            )
        )
    elif not canonical["absolute"]:
        out.append(_issue("canonical", "low", "Use an absolute URL in the canonical link."))
    if not r["viewport"]:
        out.append(
            _issue(
                "viewport",
                "medium",
                'Add <meta name="viewport" content="width=device-width, initial-scale=1"> for mobile.',
            )
        )
    if not r["content"]["language"]:
        out.append(_issue("language", "low", 'Declare the page language with <html lang="…">.'))
    return out


def _content_issues(r: dict) -> list[dict]:
    out = []
    h1 = r["headings"]["h1"]
    if not h1:
        out.append(_issue("headings", "high", "Add one <h1> that states the page's main topic."))
    elif len(h1) > 1:
        out.append(_issue("headings", "medium", f"Use a single <h1>; the page has {len(h1)}."))
    if r["headings"]["skippedLevels"]:
        out.append(
            _issue(
                "headings",
                "low",
                "Do not skip heading levels ("
                + ", ".join(r["headings"]["skippedLevels"][:3])
                + ").",
            )
        )
    if r["content"]["wordCount"] < THIN_CONTENT_WORDS:
        out.append(
            _issue(
                "content",
                "medium",
                f"Expand the content: {r['content']['wordCount']} words is thin; aim for {THIN_CONTENT_WORDS}+.",
            )
        )
    if r["images"]["missingAlt"]:
        out.append(
            _issue(
                "images",
                "medium",
                f'Add alt text to {r["images"]["missingAlt"]} image(s) (use alt="" for decorative ones).',
            )
        )
    if r["links"]["emptyAnchor"]:
        out.append(
            _issue(
                "links", "low", f"Give {r['links']['emptyAnchor']} link(s) descriptive anchor text."
            )
        )
    if r["links"]["internal"] == 0:
        out.append(_issue("links", "low", "Link to related pages on the same site."))
    ease = r["readability"]["fleschReadingEase"]
    if ease is not None and ease < 50:
        out.append(
            _issue(
                "readability",
                "low",
                f"Simplify the text (Flesch reading ease {ease}); use shorter sentences and words.",
            )
        )
    if r["structuredData"]["invalidJsonLd"]:
        out.append(
            _issue("structuredData", "medium", "Fix the JSON-LD block(s) that are not valid JSON.")
        )
    elif not r["structuredData"]["types"] and not r["structuredData"]["microdataTypes"]:
        out.append(
            _issue(
                "structuredData",
                "low",
                "Add structured data (JSON-LD, e.g. Article or Organization).",
            )
        )
    return out


def _social_issues(r: dict) -> list[dict]:
    out = []
    if r["openGraph"]["missing"]:
        out.append(
            _issue(
                "openGraph",
                "low",
                "Add Open Graph tags: " + ", ".join(r["openGraph"]["missing"]) + ".",
            )
        )
    if "twitter:card" in r["twitter"]["missing"]:
        out.append(
            _issue("twitter", "low", "Add a twitter:card meta tag (e.g. summary_large_image).")
        )
    return out


def _keyword_issues(k: dict) -> list[dict]:
    out = []
    word = k["keyword"]
    if not k["inTitle"]:
        out.append(_issue("keyword", "high", f'Use "{word}" in the title, ideally near the start.'))
    if not k["inH1"]:
        out.append(_issue("keyword", "medium", f'Use "{word}" in the <h1>.'))
    if not k["inMetaDescription"]:
        out.append(_issue("keyword", "medium", f'Mention "{word}" in the meta description.'))
    if not k["inFirst100Words"]:
        out.append(_issue("keyword", "medium", f'Mention "{word}" in the first 100 words.'))
    low, high = DENSITY_RANGE
    if k["density"] < low:
        out.append(
            _issue(
                "keyword",
                "low",
                f'Use "{word}" a little more: density {k["density"]}% (aim for {low}-{high}%).',
            )
        )
    elif k["density"] > high:
        out.append(
            _issue(
                "keyword",
                "high",
                f'Reduce "{word}": density {k["density"]}% reads as keyword stuffing (aim for {low}-{high}%).',
            )
        )
    return out
