"""Mirrors ready to serve: the demo (one site per CMS flow) and the benchmark fleet.

`Mirror` starts and stops a set of sites, giving site i the loopback host
127.0.0.(i+2), so twenty sites are twenty hosts to a crawler's per-host politeness,
and writes one seed file per site in the format `crawler/seeds.py` reads.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path

from govwatch.demo.mirror.flows import FLOWS
from govwatch.demo.mirror.flows.base import AGENCIES
from govwatch.demo.mirror.model import MirrorNotice, SiteStats
from govwatch.demo.mirror.site import MirrorSite
from govwatch.demo.mirror.texts import SeedText, closing, generated_title, load_seed_texts, opening

NEWEST = date(2024, 6, 28)
MAX_SITES = 253  # 127.0.0.2 … 127.0.0.254
_EXTENSIONS = ("pdf", "docx", "xlsx", "doc")
_FILE_NAMES = ("报名汇总表", "实施方案", "工作安排表", "申报材料清单", "联系人回执")
_CATEGORIES = ("教育", "教育、体育", "文化、教育", "")


def _toml(value: str) -> str:
    """A TOML basic string (JSON string escapes are valid TOML)."""
    return json.dumps(value, ensure_ascii=False)


def populate(
    site: MirrorSite,
    count: int,
    texts: Sequence[SeedText],
    *,
    newest: date = NEWEST,
) -> MirrorSite:
    """Fill `site` with `count` notices, newest first, the same on every run.

    The first len(texts) notices are the seed notices whole; the others have a
    generated title, an opening, a run of seed paragraphs and a signature, so every
    body differs. Ids follow the flow's CMS; metadata leaves some cells empty, as
    real 信息公开 tables do; every fourth notice has attachments.
    """
    if not texts:
        raise ValueError("no notice texts")
    rng = random.Random(f"{site.name}/{count}")
    ident = site.ident
    notices: list[MirrorNotice] = []
    for k in range(count):
        serial = count - k
        day = newest - timedelta(days=2 * k + k % 3)
        iso = day.isoformat()
        seed = texts[k % len(texts)]
        if k < len(texts):
            title, paragraphs = seed.title, list(seed.paragraphs)
        else:
            title = generated_title(rng, day.year)
            run = rng.randint(3, 9)
            start = rng.randrange(0, max(1, len(seed.paragraphs) - run))
            paragraphs = [
                *opening(rng, title),
                *seed.paragraphs[start : start + run],
                *closing(ident.agency, iso),
            ]
        meta = {
            "index_no": f"{ident.org_code}/{day.year}-{serial:05d}",
            "category": _CATEGORIES[k % len(_CATEGORIES)],
            "publisher": ident.agency,
            "written_date": (day - timedelta(days=k % 4)).isoformat(),
            "issued_date": iso,
            "published_date": iso,
            "doc_no": f"{ident.abbr}〔{day.year}〕{serial}号" if k % 3 != 2 else "",
            "validity": "有效" if k % 5 != 4 else "",
            "source": ident.agency,
        }
        attachments = []
        if k % 4 == 1:
            for i in range(1, 1 + (k // 4) % 2 + 1):
                ext = _EXTENSIONS[(k + i) % len(_EXTENSIONS)]
                label = _FILE_NAMES[(k + i) % len(_FILE_NAMES)]
                attachments.append(
                    (f"附件{i}：{label}.{ext}", f"P0{iso.replace('-', '')}{serial:05d}{i}.{ext}")
                )
        notices.append(
            MirrorNotice(
                id=site.flow.make_id(site, serial, iso),
                title=title,
                date=iso,
                paragraphs=paragraphs,
                meta=meta,
                attachments=attachments,
            )
        )
    site.notices = notices
    site.serial = max(site.serial, count)
    return site


class Mirror:
    """A set of mirrored sites, one loopback host each; a context manager that serves
    them all while open."""

    def __init__(self, sites: Sequence[MirrorSite]) -> None:
        if len(sites) > MAX_SITES:
            raise ValueError(f"at most {MAX_SITES} sites fit on 127.0.0.2 … 127.0.0.254")
        names = [s.name for s in sites]
        if len(set(names)) != len(names):
            raise ValueError("site names must be unique")
        self.sites: list[MirrorSite] = list(sites)
        for i, site in enumerate(self.sites):
            site.host = f"127.0.0.{i + 2}"

    def __iter__(self) -> Iterator[MirrorSite]:
        return iter(self.sites)

    def __len__(self) -> int:
        return len(self.sites)

    def site(self, name: str) -> MirrorSite:
        for site in self.sites:
            if site.name == name:
                return site
        raise KeyError(f"no site {name!r} (sites: {', '.join(s.name for s in self.sites)})")

    def by_flow(self, flow: str) -> MirrorSite:
        """The first site of a flow."""
        for site in self.sites:
            if site.flow.name == flow:
                return site
        raise KeyError(f"no site of flow {flow!r}")

    def start(self) -> Mirror:
        try:
            for site in self.sites:
                site.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for site in self.sites:
            site.stop()

    def __enter__(self) -> Mirror:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stats(self) -> SiteStats:
        """All sites' request counters added up."""
        total = SiteStats.of([])
        for site in self.sites:
            total = total + site.stats()
        return total

    def reset_logs(self) -> None:
        for site in self.sites:
            site.reset_log()

    def seed_files(
        self, directory: Path, *, rate: float | None = None, baseline: bool = True
    ) -> list[Path]:
        """One seed TOML per site (crawler/seeds.py format), named <site>.toml.

        The parser is the flow's (for sd_gongkai "generic" while no parser of that name
        is registered). max_pages covers every listing request the site needs now, plus
        one for notices added later. `rate` (requests per second per host) is written
        only when given: the crawler's default of 1/s is right for real sites, while a
        benchmark against loopback wants it higher. `baseline=False` announces every
        notice of the first crawl (the mirror's notices are old: by default, none is).
        """
        from govwatch.parsers import registry

        directory.mkdir(parents=True, exist_ok=True)
        known = set(registry.names())
        paths = []
        for site in self.sites:
            parser = site.parser if site.parser in known else "generic"
            topics = ", ".join(_toml(t) for t in ("教育", site.ident.column, site.flow.name))
            text = "\n".join(
                (
                    f"# govwatch mirror site {site.name}: flow {site.flow.name}",
                    f"id = {_toml(site.name)}",
                    f"name = {_toml(site.ident.agency + ' ' + site.ident.column)}",
                    f"parser = {_toml(parser)}",
                    f"listing_urls = [{_toml(site.entry_url)}]",
                    f"max_pages = {site.flow.listing_fetches(site) + 1}",
                    'interval = "10s"',
                    f"topics = [{topics}]",
                    f"allowed_hosts = [{_toml(site.host)}]",
                    *([f"rate = {float(rate)!r}"] if rate is not None else []),
                    *([] if baseline else ["baseline = false"]),
                    "",
                )
            )
            path = directory / f"{site.name}.toml"
            path.write_text(text, encoding="utf-8")
            paths.append(path)
        return paths


# (site name, flow, notices, page size, view counter)
DEMO_SITES: tuple[tuple[str, str, int, int, bool], ...] = (
    ("generic", "generic", 32, 10, True),
    ("trs-wcm", "trs_wcm", 28, 10, False),
    ("hanweb-jcms", "hanweb_jcms", 40, 10, False),
    ("hanweb-jpaas", "hanweb_jpaas", 35, 15, False),
    ("sd-gongkai", "sd_gongkai", 24, 10, False),
)


def demo_mirror(seed_texts: Path | None = None) -> Mirror:
    """One site per CMS flow, 24–40 notices each, bodies from `load_seed_texts(seed_texts)`
    (generated unless a directory of seed notices is named).

    Page sizes make every paging path run: the generic, TRS and gongkai listings have
    3–4 pages, the jcms column page holds 30 of 40 records so the last 10 need the
    dataproxy POST, jpaas needs three paramJson pages. The generic site shows a live
    view counter on its notices.
    """
    texts = load_seed_texts(seed_texts)
    sites = []
    for number, (name, flow, count, size, counter) in enumerate(DEMO_SITES):
        agency = AGENCIES[number % len(AGENCIES)]
        site = MirrorSite(
            name, flow, page_size=size, view_counter=counter, agency=agency, number=number
        )
        sites.append(populate(site, count, texts))
    return Mirror(sites)


def bench_mirror(
    hosts: int = 20, notices: int = 2000, seed_texts: Path | None = None, page_size: int = 15
) -> Mirror:
    """`hosts` sites cycling through the flows, `notices` in all (spread evenly), every
    page static so conditional requests can be answered 304."""
    if hosts < 1:
        raise ValueError("hosts must be at least 1")
    texts = load_seed_texts(seed_texts)
    flows = list(FLOWS)
    sites = []
    for i in range(hosts):
        flow = flows[i % len(flows)]
        count = notices // hosts + (1 if i < notices % hosts else 0)
        name = f"bench-{i:02d}-{flow.replace('_', '-')}"
        agency = AGENCIES[i % len(AGENCIES)]
        site = MirrorSite(name, flow, page_size=page_size, agency=agency, number=i)
        sites.append(populate(site, count, texts))
    return Mirror(sites)
