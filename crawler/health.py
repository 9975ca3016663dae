"""Site health: does this crawl of a site look like its healthy crawls did?

A site whose listing yielded notices and now yields none, or whose notices suddenly come
back without a body or without 信息公开 metadata, has most likely changed its layout: the
crawl reports a *layout change* (crawl summary, /healthz, /metrics, the operator feed),
and the notices are left as they are — a changed template is never a removal or a
revision. A column that never listed anything is `empty`; one whose listing pages all
failed is `unreachable`, and the health says why (CAUSES): a site down for days stays one
health item, its status unchanged, not a stream of errors.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from govwatch.store.rows import HealthStatus, SiteYield

MIN_SAMPLE = 3
"""Notice pages a share is judged on, in this crawl and in the healthy ones before it."""
SHARE_BEFORE = 0.8
"""A share (body, metadata) a healthy site reached before, for its loss to mean anything."""
SHARE_NOW = 0.5
"""Below this share in one crawl, what the site had is taken as lost."""


CAUSES = {
    "no_answer": "no answer from the site (blackholed or geo-fenced?): try a proxy",
    "refused": "the site refuses connections: it is down, or the port is wrong",
    "reset": "the site resets connections: a firewall may be cutting this network off; try a proxy",
    "tls": "the TLS handshake fails: an old or broken https setup, or a firewall",
    "waf": "a firewall (WAF) refuses this client (HTTP 403/406/412): try a proxy in China "
    "or a lower rate",
    "challenge": "an anti-bot challenge (瑞数/加速乐) answers instead of the column",
    "proxy": "the proxy cannot be reached or refuses its credentials: check the seed's "
    "`proxy` (or GOVWATCH_PROXY)",
    "stub": "a stub page answers instead of the column (a geo-fence or a parked site?): "
    "try a proxy",
}
"""Why a site cannot be reached, by the kind of its listing pages' failures."""


@dataclass(frozen=True)
class Health:
    status: HealthStatus
    message: str


def _share(part: int, whole: int) -> str:
    return f"{100 * part // whole}%"


def assess(now: SiteYield, healthy: Sequence[SiteYield], kinds: Sequence[str] = ()) -> Health:
    """The health of a crawl that yielded `now`, judged against the site's earlier
    healthy crawls (`healthy`, newest first); `kinds`: why its listing pages failed."""
    if now.listing_read == now.listing_unchanged == 0 and now.listing_failed:
        message = f"no listing page could be read ({now.listing_failed} failed)"
        common = Counter(kinds).most_common(1)
        if common and common[0][0] in CAUSES:
            message += f": {CAUSES[common[0][0]]}"
        return Health("unreachable", message)
    # A page answered 304 still lists what it listed: no items read is then no evidence
    # (a jpaas column shell lists nothing itself; its rows page is the one unchanged).
    if now.listing_read and not now.listing_items and not now.listing_unchanged:
        listed = [y for y in healthy if y.listing_read and y.listing_items]
        if not listed:
            return Health("empty", "the column lists no notices yet")
        per_page = listed[0].listing_items // listed[0].listing_read
        return Health(
            "layout_change",
            f"the listing pages list no notices any more (before: about {per_page} a page)",
        )
    read = sum(y.notices_read for y in healthy)
    if now.notices_read >= MIN_SAMPLE and read >= MIN_SAMPLE:
        for part, had, what in (
            (now.with_body, sum(y.with_body for y in healthy), "a body"),
            (now.with_meta, sum(y.with_meta for y in healthy), "信息公开 metadata"),
        ):
            if had >= SHARE_BEFORE * read and part < SHARE_NOW * now.notices_read:
                lost = now.notices_read - part
                return Health(
                    "layout_change",
                    f"{lost} of {now.notices_read} notices came back without {what} "
                    f"(before: {_share(had, read)} had it)",
                )
    return Health("ok", "")
