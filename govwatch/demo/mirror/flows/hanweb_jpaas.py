"""Hanweb jpaas (集约化 platform, the Taizhou sites): column pages hold no rows, a
JSON API renders them.

    /col/col<page>/index.html                   column page (or <column path>/index.html,
                                                e.g. /xxgk/fdzdgknr/tzgg/index.html, as
                                                靖江's 信息公开 columns): only a <script
                                                src="/module/AuthorizedRead/unitbuild.js"
                                                url="/api-gateway/…/page/build/unit"
                                                queryData="{'webId':…,'tagId':'通知公告',…}">
    GET /api-gateway/jpaas-publish-server/front/page/build/unit
        ?webId=…&pageId=<page>&tplSetId=…&tagId=通知公告&parseType=bulidstatic
        &pageType=column&paramJson={"pageNo":N,"pageSize":"15"}
                                                → {"success":true,"data":{"html":"<ul>…</ul>
                                                   <div class=\"pagination\" rows count>"}}
    [<column path>]/art/YYYY/art_<32 hex>.html  notices: .wzzw-title, .wzzw-article, 3×4 table
    /attach/0/<file>                            attachments

As on the real platform: paging is read only from paramJson (a bare pageNo is
ignored and page 1 comes back); tagId must be UTF-8 percent-encoded — missing, or
GBK-encoded, the API answers {"success":false}. A unit pages by paramJson's pageSize,
at most the site's page size (the unit's own; also the size without one), and says the
size it used in the pager's `rows`: a site with page_size 10 answers a client asking 15
with pages of 10.
"""

# ruff: noqa: E501  (page templates: HTML lines read best unwrapped, like the pages they copy)

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from govwatch.demo.mirror.flows.base import Flow, esc, meta, pages, paragraphs_html
from govwatch.demo.mirror.model import MirrorNotice, Reply, Request

if TYPE_CHECKING:
    from govwatch.demo.mirror.site import MirrorSite

API = "/api-gateway/jpaas-publish-server/front/page/build/unit"
SCRIPT = "/module/AuthorizedRead/unitbuild.js"
JSON_TYPE = "application/json; charset=utf-8"
UNITBUILD_JS = (
    b"/* unitbuild.js: renders a jpaas unit from its url and queryData attributes */\n"
    b"(function(){var s=document.currentScript;var q=eval('('+s.getAttribute('queryData')+')');"
    b"q.paramJson=JSON.stringify({pageNo:1,pageSize:'15'});"
    b"$.get(s.getAttribute('url'),q,function(r){if(r.success){$(s).after(r.data.html);}});})();\n"
)


def _short(title: str, keep: int = 24) -> str:
    """Long titles are cut in the row text; the full one is in title=."""
    return title if len(title) <= keep else title[:keep] + "..."


def _cell(notice: MirrorNotice, key: str) -> str:
    """A table cell; the platform writes empty ones as &nbsp;."""
    return meta(notice, key) or "&nbsp;"


def _fail(message: str) -> Reply:
    body = json.dumps({"success": False, "msg": message}, ensure_ascii=False)
    return Reply(200, JSON_TYPE, body.encode("utf-8"))


class HanwebJpaasFlow(Flow):
    name = "hanweb_jpaas"
    parser = "hanweb_jpaas"
    shown_meta = (
        "index_no",
        "category",
        "publisher",
        "issued_date",
        "doc_no",
        "validity",
        "published_date",
        "source",
    )
    client_page_size = 15  # the parser always asks for pageSize "15"
    column_paths = True

    def entry_path(self, site: MirrorSite) -> str:
        if site.column_path:
            return f"{site.column_path}/index.html"
        return f"/col/col{site.ident.column_id}/index.html"

    def detail_path(self, site: MirrorSite, notice: MirrorNotice) -> str:
        return f"{site.column_path or ''}/art/{notice.year}/art_{notice.id}.html"

    def attachment_path(self, site: MirrorSite, notice: MirrorNotice, filename: str) -> str:
        return f"/attach/0/{filename}"

    def make_id(self, site: MirrorSite, serial: int, date: str) -> str:
        return hashlib.md5(
            f"{site.name}/{serial}/{date}".encode(), usedforsecurity=False
        ).hexdigest()

    def rows_per_page(self, site: MirrorSite, asked: int | None = None) -> int:
        """The rows a unit serves per page: the pageSize asked, at most the site's own."""
        return max(1, min(asked or site.page_size, site.page_size, 100))

    def listing_fetches(self, site: MirrorSite) -> int:
        return 1 + pages(len(site.notices), self.rows_per_page(site, self.client_page_size))

    def query_data(self, site: MirrorSite) -> dict[str, str]:
        ident = site.ident
        return {
            "webId": ident.web_id,
            "pageId": ident.column_id,
            "tplSetId": ident.tpl_set_id,
            "tagId": ident.column,
            "parseType": "bulidstatic",
            "pageType": "column",
        }

    def listing(self, site: MirrorSite, req: Request) -> Reply | None:
        if req.path == API:
            return self.api(site, req)
        if req.path == SCRIPT:
            return Reply(200, "application/javascript; charset=utf-8", UNITBUILD_JS)
        if req.target == self.entry_path(site):
            return self.page(self.column_page(site))
        return None

    def api(self, site: MirrorSite, req: Request) -> Reply:
        try:
            params = dict(parse_qsl(req.query, encoding="utf-8", errors="strict"))
        except UnicodeDecodeError:
            return _fail("参数编码错误")
        expected = self.query_data(site)
        if params.get("tagId") != expected["tagId"] or params.get("pageId") != expected["pageId"]:
            return _fail("未找到对应的组件")
        page_no, asked = 1, None
        if "paramJson" in params:
            try:
                param = json.loads(params["paramJson"])
                page_no = int(param.get("pageNo", 1))
                asked = int(param.get("pageSize", site.page_size))
            except (ValueError, TypeError, AttributeError):
                return _fail("paramJson 格式错误")
        size = self.rows_per_page(site, asked)
        notices = list(site.notices)
        rows = notices[(page_no - 1) * size : page_no * size] if page_no >= 1 else []
        items = "".join(
            f'<li class="clearfix"><a href="{self.detail_path(site, n)}" title="{esc(n.title)}" '
            f'target="_blank">{esc(_short(n.title))}</a><span class="bt-right">{n.date}</span></li>'
            for n in rows
        )
        fragment = (
            f'<div class="list-content"><ul class="list">{items}</ul></div>'
            f'<div class="pagination" rows="{size}" count="{len(notices)}" '
            f'page="{page_no}"></div>'
        )
        answer = {"success": True, "data": {"html": fragment}}
        return Reply(200, JSON_TYPE, json.dumps(answer, ensure_ascii=False).encode("utf-8"))

    def column_page(self, site: MirrorSite) -> str:
        ident = site.ident
        # Single quotes inside a double-quoted attribute, unescaped, as the platform writes it.
        query = ",".join(f"'{k}':'{v}'" for k, v in self.query_data(site).items()).replace('"', "")
        return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<title>{esc(ident.column)}_{esc(ident.agency)}</title>
<meta name="SiteName" content="{esc(ident.agency)}">
<meta name="ColumnName" content="{esc(ident.column)}">
<link rel="stylesheet" href="/static/css/common.css">
<script src="/static/js/jquery.min.js"></script>
</head>
<body>
<div class="header"><div class="container"><div class="logo">{esc(ident.agency)}</div></div></div>
<div class="nav"><div class="container"><a href="/">首页</a><a href="/col/col{int(ident.column_id) - 5}/index.html">政务公开</a><a class="on" href="{self.entry_path(site)}">{esc(ident.column)}</a><a href="/col/col{int(ident.column_id) - 9}/index.html">政务服务</a></div></div>
<div class="container main">
<div class="position">您当前的位置：<a href="/">首页</a> &gt; <a href="{self.entry_path(site)}">{esc(ident.column)}</a></div>
<div class="list-box">
<div class="list-title">{esc(ident.column)}</div>
<div id="unit_list"><script src="{SCRIPT}" url="{API}" queryData="{{{query}}}"></script></div>
</div>
</div>
<div class="footer"><div class="container"><p>主办：{esc(ident.agency)}　网站标识码：{ident.id_code}　<a href="https://beian.miit.gov.cn/">{esc(ident.icp)}</a></p></div></div>
</body>
</html>
"""

    def detail(self, site: MirrorSite, notice: MirrorNotice, views: int | None) -> str:
        ident = site.ident
        counter = f"<em>{views}</em>" if views is not None else '<em id="readCount"></em>'
        files = "".join(
            f'<p><a href="{self.attachment_path(site, notice, f)}">{esc(name)}</a></p>'
            for name, f in notice.attachments
        )
        return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>{esc(notice.title)}</title>
<meta name="ArticleTitle" content="{esc(notice.title)}">
<meta name="PubDate" content="{notice.date} 16:20">
<meta name="ContentSource" content="{meta(notice, "source")}">
<link rel="stylesheet" href="/static/css/common.css">
</head>
<body>
<div class="header"><div class="container"><div class="logo">{esc(ident.agency)}</div></div></div>
<div class="container main">
<div class="position">您当前的位置：<a href="/">首页</a> &gt; <a href="{self.entry_path(site)}">{esc(ident.column)}</a> &gt; 正文</div>
<div class="wzzw">
<table class="xxgk-table" width="100%" border="1" cellspacing="0" cellpadding="0">
<tr><td class="name">索引号</td><td>{_cell(notice, "index_no")}</td><td class="name">主题分类</td><td>{_cell(notice, "category")}</td></tr>
<tr><td class="name">发布单位</td><td>{_cell(notice, "publisher")}</td><td class="name">发文日期</td><td>{_cell(notice, "issued_date")}</td></tr>
<tr><td class="name">文号</td><td>{_cell(notice, "doc_no")}</td><td class="name">时效</td><td>{_cell(notice, "validity")}</td></tr>
</table>
<div class="wzzw-title">{esc(notice.title)}</div>
<div class="wzzw-info">发布时间：{notice.date} 16:20　浏览次数：{counter}　<span class="font">字号：<a href="javascript:void(0)" onclick="doZoom(18)">大</a> <a href="javascript:void(0)" onclick="doZoom(16)">中</a> <a href="javascript:void(0)" onclick="doZoom(14)">小</a></span></div>
<div class="wzzw-article">
{paragraphs_html(notice)}
</div>
{f'<div class="wzzw-fj"><p>附件：</p>{files}</div>' if files else ""}
<div class="wzzw-tools"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>
<div class="ewm"><img src="/static/images/ewm.png" alt=""><p>扫一扫在手机上查看当前页面</p></div>
</div>
</div>
<div class="footer"><div class="container"><p>主办：{esc(ident.agency)}　网站标识码：{ident.id_code}　<a href="https://beian.miit.gov.cn/">{esc(ident.icp)}</a></p></div></div>
</body>
</html>
"""
