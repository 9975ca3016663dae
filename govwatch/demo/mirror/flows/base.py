"""What every flow shares: the Flow interface, site identity, HTML helpers.

A flow is one CMS family's URL layout and markup. It is stateless: every answer is
rendered from the site's current notices, so an edit, an addition or a removal shows
on the next request, exactly as on a CMS that republishes on change.
"""

from __future__ import annotations

import hashlib
import html
import mimetypes
import posixpath
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, ClassVar

from govwatch.demo.mirror.model import MirrorNotice, Reply, Request

if TYPE_CHECKING:
    from govwatch.demo.mirror.site import MirrorSite

# Fictional agencies: the mirror must not pass itself off as a real government site.
AGENCIES: tuple[str, ...] = (
    "青山市教育局",
    "云溪县教育和体育局",
    "临江市教育局",
    "东岭区教育和体育局",
    "南湖市教育局",
    "白石县教育局",
    "西川区教育和体育局",
    "北塘市教育局",
    "松阳县教育局",
    "清河区教育和体育局",
)
PROVINCES = ("浙", "苏", "鲁", "皖", "鄂", "湘", "闽", "赣")


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


@dataclass(frozen=True)
class SiteIdent:
    """The ids a CMS gives a site and its column, derived from the site's name so a
    mirror built twice serves the same URLs."""

    agency: str
    column: str
    column_id: str  # jcms/jpaas column id: /col/col<id>/
    unit_id: str  # jcms list unit: the jpage container and dataproxy unitid
    web_id: str
    site_code: str  # gongkai: /gongkai/site_<code>/
    channel: str  # gongkai: channel_<24 hex>
    tpl_set_id: str  # jpaas template set
    org_code: str  # 索引号 prefix
    id_code: str  # 网站标识码
    icp: str  # ICP备案号
    abbr: str  # 文号 prefix, e.g. 青教发

    @classmethod
    def for_site(cls, name: str, agency: str | None = None, column: str = "通知公告") -> SiteIdent:
        d = _digest(name)
        n = int.from_bytes(d[:8], "big")
        agency = agency or AGENCIES[n % len(AGENCIES)]
        province = PROVINCES[n % len(PROVINCES)]
        return cls(
            agency=agency,
            column=column,
            column_id=str(1_200_000 + n % 800_000),
            unit_id=str(4_000 + n % 5_000),
            web_id=str(1 + n % 400),
            site_code="".join(chr(ord("a") + b % 26) for b in d[8:16]),
            channel=d[16:28].hex(),
            tpl_set_id=d[28:32].hex() + d[:4].hex(),
            org_code=f"{n % 10**9:09d}",
            id_code=f"{3300000000 + n % 99999:010d}",
            icp=f"{province}ICP备{10_000_000 + n % 89_999_999}号-1",
            abbr=agency[0] + ("教体发" if "体育" in agency else "教发"),
        )


CHINA = timezone(timedelta(hours=8))


def published_at(date: str) -> int:
    """A notice's publication time: 09:00 China time on its date, in epoch seconds."""
    return int(datetime.fromisoformat(date).replace(hour=9, tzinfo=CHINA).timestamp())


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def paragraphs_html(notice: MirrorNotice, style: str = "text-indent:2em;") -> str:
    """The body as a CMS editor saves it: one <p> per paragraph, headings in <strong>."""
    out = []
    for para in notice.paragraphs:
        text = esc(para)
        if len(para) <= 30 and para[:1] in "一二三四五六七八九十" and "、" in para[:4]:
            text = f"<strong>{text}</strong>"
        out.append(f'<p style="{style}">{text}</p>')
    return "\n".join(out)


def chinese_date(date: str) -> str:
    """2024-03-08 → 2024年03月08日, the form many 信息公开 tables use."""
    return f"{date[:4]}年{date[5:7]}月{date[8:10]}日"


def meta(notice: MirrorNotice, key: str) -> str:
    return esc(notice.meta.get(key, ""))


def attachment_bytes(name: str, filename: str) -> bytes:
    """A small stand-in file: a crawler only needs the link to resolve."""
    return f"%govwatch-mirror attachment\n{filename}\n{name}\n".encode()


class Flow:
    """One CMS family: its listing pages, notice URLs and page markup."""

    name: ClassVar[str]
    parser: ClassVar[str]
    charset: ClassVar[str] = "utf-8"
    # Rows per listing request the project's parser asks for, where the client picks it.
    client_page_size: ClassVar[int | None] = None
    # Whether a site may put its column under a path of its own (MirrorSite.column_path).
    column_paths: ClassVar[bool] = False
    # The metadata keys a notice page shows (published_date is the notice's date),
    # i.e. what a cleaner can read back from it.
    shown_meta: ClassVar[tuple[str, ...]] = ()

    # --- what each flow defines ---------------------------------------------

    def entry_path(self, site: MirrorSite) -> str:
        """Path of the listing's first page: the URL a seed names."""
        raise NotImplementedError

    def detail_path(self, site: MirrorSite, notice: MirrorNotice) -> str:
        raise NotImplementedError

    def make_id(self, site: MirrorSite, serial: int, date: str) -> str:
        """A CMS-shaped article id; larger serials are newer notices."""
        raise NotImplementedError

    def listing_fetches(self, site: MirrorSite) -> int:
        """Requests a crawler needs to see every listed notice (a seed's max_pages)."""
        raise NotImplementedError

    def listing(self, site: MirrorSite, req: Request) -> Reply | None:
        """Answer a listing or paging request, or None when `req` is none of those."""
        raise NotImplementedError

    def detail(self, site: MirrorSite, notice: MirrorNotice, views: int | None) -> str:
        """The notice page; `views` is the live counter when the site shows one."""
        raise NotImplementedError

    # --- shared behaviour ---------------------------------------------------

    def accepts_post(self, req: Request) -> bool:
        """Whether `req` goes to an endpoint that takes POST; static pages answer 405."""
        return False

    def attachment_path(self, site: MirrorSite, notice: MirrorNotice, filename: str) -> str:
        """Where an attachment lives: beside the notice unless the CMS says otherwise."""
        return posixpath.join(posixpath.dirname(self.detail_path(site, notice)), filename)

    def content_type(self) -> str:
        return f"text/html; charset={self.charset}"

    def page(self, text: str, *, dynamic: bool = False) -> Reply:
        body = text.encode(self.charset, errors="xmlcharrefreplace")
        return Reply(200, self.content_type(), body, dynamic=dynamic)

    def expected_meta(self, notice: MirrorNotice) -> dict[str, str]:
        """The metadata a cleaner should read from this flow's page of `notice`: the shown
        keys with a value (empty cells give nothing)."""
        values = {**notice.meta, "published_date": notice.date}
        return {k: values[k] for k in self.shown_meta if values.get(k)}

    def route(self, site: MirrorSite, req: Request) -> Reply | None:
        """Listing pages, then notices, then attachments; None for an unknown path."""
        if req.method == "POST" and not self.accepts_post(req):
            known = self.listing(site, replace(req, method="GET")) is not None or any(
                self.detail_path(site, n) == req.target for n in site.notices
            )
            return method_not_allowed("GET, HEAD") if known else None
        answer = self.listing(site, req)
        if answer is not None:
            return answer
        for notice in list(site.notices):
            if self.detail_path(site, notice) == req.target:
                views = site.count_view(notice.id) if site.view_counter else None
                reply = self.page(self.detail(site, notice, views), dynamic=views is not None)
                return replace(reply, published=published_at(notice.date))
            for name, filename in notice.attachments:
                if self.attachment_path(site, notice, filename) == req.target:
                    kind = mimetypes.guess_type(filename)[0] or "application/octet-stream"
                    return Reply(200, kind, attachment_bytes(name, filename))
        return None

    def neighbours(
        self, site: MirrorSite, notice: MirrorNotice
    ) -> tuple[MirrorNotice | None, MirrorNotice | None]:
        """(newer, older) notices: the 上一篇 / 下一篇 links."""
        notices = list(site.notices)
        ids = [n.id for n in notices]
        at = ids.index(notice.id) if notice.id in ids else -1
        newer = notices[at - 1] if at > 0 else None
        older = notices[at + 1] if 0 <= at < len(notices) - 1 else None
        return newer, older


def method_not_allowed(allow: str) -> Reply:
    body = b"<html><body><h1>405 Method Not Allowed</h1></body></html>"
    return Reply(405, "text/html; charset=utf-8", body, headers=(("Allow", allow),))


def pages(total: int, size: int) -> int:
    """Listing pages for `total` rows, at least one (an empty column still has a page)."""
    return max(1, -(-total // max(1, size)))
