"""What the generic extractor looks for, kept as data (as trafilatura keeps its XPaths):
body containers, the class/id names that tilt a score, title candidates, and the
`Rules` a site parser hands the engine. CMS families declare their own containers and
body markers with their parsers (`registry.register`); the ones here are shared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rules:
    """Site knowledge a site parser hands to the engine: CSS selectors, tried first."""

    content: tuple[str, ...] = ()
    title: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()


GENERIC = Rules()

# Body containers found across sites and CMSs, tried after the CMS families' own.
# .Custom_UnionStyle is TRS's editor style, which travels with text pasted into any CMS:
# an inner wrapper, tried late so that a site's own container holding it wins.
SHARED_CONTAINERS = (
    ".article-content",
    "#ivs_content",
    ".pages_content",
    "#fontzoom",
    "#BodyLabel",
    ".Custom_UnionStyle",
    "#js_content",
    ".xxgk_content",
    "#zoomcon",
)
# The element the engine wraps around a body a CMS marked with comments or <meta> tags.
MARKED_ID = "govwatch-marked"

# Class/id names that speak of content, or of page chrome.
POSITIVE_NAMES = re.compile(
    r"content|article|zoom|editor|zhengwen|detail|wenzhang|main|text|news_?con|con_?text|zw|nr",
    re.I,
)
NEGATIVE_NAMES = re.compile(
    r"comment|foot|nav|menu|share|side|related|xgwz|xgxx|link|copyright|banner|header|"
    r"top|crumb|position|location|weizhi|tool|pager|pagination|\bad\b|qr|ewm|code|"
    r"hidden|search|login|friend|bottom|dqwz|sxy|prev|next",
    re.I,
)
# Chinese and ASCII punctuation of running text: a text block's score counts it.
PUNCT = re.compile(r"[，。；、：！？,;]")

# Title candidates: headings and elements named as titles.
TITLE_CANDIDATES = (
    "h1, h2, h3, h4, [class*=title], [class*=Title], [id*=title], [class*=bt], [class*=tit]"
)
TITLE_NAMES = re.compile(r"title|biaoti|bt\b|tit\b|headline|art_?tit", re.I)
# What separates a notice title from the site's name in <title>.
TITLE_SPLIT = re.compile(r"\s*(?:[_|｜–—]|-{1,2}|\s-\s)\s*")
