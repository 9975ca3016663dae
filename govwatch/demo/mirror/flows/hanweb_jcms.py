"""Hanweb jcms (大汉): the column page carries the first group of records in a
datastore, further groups come only from a POST to dataproxy.jsp.

    /col/col<col>/index.html                    column page: records 1 … groupSize·perPage
                                                in <script type="text/xml"><datastore>, a
                                                nextgroup link and a jpage({…}) call with
                                                perPage, totalRecord, groupSize, proxyUrl
    POST /module/web/jpage/dataproxy.jsp?startrecord=S&endrecord=E&perpage=P
         form: col=1&appid=1&webid=…&path=/&columnid=<col>&sourceContentType=1
               &unitid=<unit>&webname=…&permissiontype=0 (columnid and unitid required)
                                                → the same datastore XML for records S … E
    GET  of dataproxy.jsp                       → 405: a crawler that does not POST fails
    /art/YYYY/M/D/art_<col>_<id>.html           notices, body between
                                                <!--ZJEG_RSS.content.begin--> and …end-->
    /module/download/downfile.jsp?classid=0&filename=<file>   attachments

Records are `<li><a href='/art/…' title='…'>…</a><span>YYYY-MM-DD</span></li>` in CDATA.
Notice pages follow the Zhejiang layout: table.xxgk (索引号 / 文件编号 / 发布机构 /
生成日期 / 主题分类 / 公开方式), the title cell, a 发布日期 / 来源 / 浏览次数 /
字体：[ 大 中 小 ] row, #zoom around the marked body, 分享到 and 【打印本页】【关闭本页】.
"""

# ruff: noqa: E501  (page templates: HTML lines read best unwrapped, like the pages they copy)

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote

from govwatch.demo.mirror.flows.base import Flow, esc, meta, method_not_allowed, pages
from govwatch.demo.mirror.model import MirrorNotice, Reply, Request

if TYPE_CHECKING:
    from govwatch.demo.mirror.site import MirrorSite

PROXY = "/module/web/jpage/dataproxy.jsp"
GROUP_SIZE = 3


def _record(site: MirrorSite, flow: HanwebJcmsFlow, notice: MirrorNotice) -> str:
    title = esc(notice.title)
    href = flow.detail_path(site, notice)
    return (
        f"<record><![CDATA[\n<li><a href='{href}' title='{title}' target='_blank'>{title}</a>"
        f"<span>{notice.date}</span></li>\n]]></record>"
    )


class HanwebJcmsFlow(Flow):
    name = "hanweb_jcms"
    parser = "hanweb_jcms"
    shown_meta = (
        "index_no",
        "doc_no",
        "publisher",
        "written_date",
        "category",
        "published_date",
        "source",
    )

    def entry_path(self, site: MirrorSite) -> str:
        return f"/col/col{site.ident.column_id}/index.html"

    def detail_path(self, site: MirrorSite, notice: MirrorNotice) -> str:
        return (
            f"/art/{notice.year}/{notice.month}/{notice.day}/"
            f"art_{site.ident.column_id}_{notice.id}.html"
        )

    def attachment_path(self, site: MirrorSite, notice: MirrorNotice, filename: str) -> str:
        return f"/module/download/downfile.jsp?classid=0&filename={quote(filename)}"

    def make_id(self, site: MirrorSite, serial: int, date: str) -> str:
        return str(58_900_000 + serial * 13 + site.number)

    def group(self, site: MirrorSite) -> int:
        return GROUP_SIZE * site.page_size

    def listing_fetches(self, site: MirrorSite) -> int:
        rest = max(0, len(site.notices) - self.group(site))
        return 1 + (pages(rest, self.group(site)) if rest else 0)

    def nextgroup(self, site: MirrorSite) -> str:
        ident = site.ident
        href = (
            f"{PROXY}?page=1&appid=1&webid={ident.web_id}&path=/&columnid={ident.column_id}"
            f"&unitid={ident.unit_id}&webname={ident.agency}&permissiontype=0"
        )
        return f'<nextgroup><![CDATA[<a href="{href}"></a>]]></nextgroup>'

    def listing(self, site: MirrorSite, req: Request) -> Reply | None:
        if req.path == PROXY:
            return self.proxy(site, req)
        if req.target != self.entry_path(site):
            return None
        return self.page(self.column_page(site))

    def accepts_post(self, req: Request) -> bool:
        return req.path == PROXY

    def proxy(self, site: MirrorSite, req: Request) -> Reply:
        """POST only; paging in the query string, the unit's fields in the form."""
        if req.method != "POST":
            return method_not_allowed("POST")
        query = dict(parse_qsl(req.query))
        form = dict(req.form)
        ident = site.ident
        if form.get("columnid") != ident.column_id or form.get("unitid") != ident.unit_id:
            body = b"<html><body>invalid request: columnid/unitid</body></html>"
            return Reply(400, "text/html; charset=utf-8", body)
        try:
            start = int(query["startrecord"])
            end = int(query["endrecord"])
            per_page = int(query.get("perpage", site.page_size))
        except (KeyError, ValueError):
            body = b"<html><body>invalid request: startrecord/endrecord</body></html>"
            return Reply(400, "text/html; charset=utf-8", body)
        notices = list(site.notices)
        rows = notices[max(0, start - 1) : max(0, end)]
        records = "\n".join(_record(site, self, n) for n in rows)
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<datastore>\n'
            f"{self.nextgroup(site)}\n<recordset>\n{records}\n</recordset>\n"
            f"<totalrecord>{len(notices)}</totalrecord>\n"
            f"<totalpage>{pages(len(notices), per_page)}</totalpage>\n</datastore>\n"
        )
        return Reply(200, "text/xml; charset=utf-8", xml.encode("utf-8"))

    def column_page(self, site: MirrorSite) -> str:
        ident = site.ident
        notices = list(site.notices)
        records = "\n".join(_record(site, self, n) for n in notices[: self.group(site)])
        unit = ident.unit_id
        return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="UTF-8">
<title>{esc(ident.column)} {esc(ident.agency)}</title>
<meta name="SiteName" content="{esc(ident.agency)}">
<meta name="SiteIDCode" content="{ident.id_code}">
<meta name="ColumnName" content="{esc(ident.column)}">
<meta name="ColumnType" content="{esc(ident.column)}">
<link rel="stylesheet" href="/script/page.css">
<script type="text/javascript" src="/module/jslib/jquery/jquery.js"></script>
<script type="text/javascript" src="/module/jslib/jpage/jpage.js"></script>
</head>
<body>
<div id="hiddenLocation" style="display:none;"><span id="ss_webid">{ident.web_id}</span><span id="col1_name">{esc(ident.column)}</span><span id="col1_url">{self.entry_path(site)}</span></div>
<div class="header"><div class="logo">{esc(ident.agency)}</div></div>
<div class="nav"><a href="/index.html">首页</a><a href="/col/col{int(ident.column_id) - 3}/index.html">政务公开</a><a href="{self.entry_path(site)}">{esc(ident.column)}</a><a href="/col/col{int(ident.column_id) - 7}/index.html">办事服务</a></div>
<div class="current-position">当前位置：<a href="/index.html">首页</a> &gt; <a href="{self.entry_path(site)}">{esc(ident.column)}</a></div>
<div class="main">
<div class="list-title">{esc(ident.column)}</div>
<div class="default_pgContainer" id="{unit}"><script type="text/xml"><datastore>
{self.nextgroup(site)}
<recordset>
{records}
</recordset>
</datastore></script></div>
<script type="text/javascript">
$(document).ready(function () {{
  $('#{unit}').jpage({{
    dataStore: $('#{unit} script[type="text/xml"]'),
    proxyUrl:'{PROXY}',
    perPage:{site.page_size},
    totalRecord:{len(notices)},
    groupSize:{GROUP_SIZE},
    barPosition:'bottom',
    ajaxParam:{{col:1,appid:1,webid:{ident.web_id},path:'/',columnid:{ident.column_id},sourceContentType:1,unitid:'{unit}',webname:'{esc(ident.agency)}',permissiontype:0}}
  }});
}});
</script>
</div>
<div class="footer">
<p>主办单位：{esc(ident.agency)}　网站标识码：{ident.id_code}</p>
<p><a href="https://beian.miit.gov.cn/" target="_blank">{esc(ident.icp)}</a></p>
</div>
</body>
</html>
"""

    def detail(self, site: MirrorSite, notice: MirrorNotice, views: int | None) -> str:
        ident = site.ident
        counter = (
            str(views)
            if views is not None
            else '<script src="/module/visitcount/articlehits.jsp"></script>'
        )
        files = "".join(
            f'<p><a href="{esc(self.attachment_path(site, notice, f))}">{esc(name)}</a></p>'
            for name, f in notice.attachments
        )
        body = "\n".join(
            f'<p style="text-indent: 2em; text-align: justify;">{esc(p)}</p>'
            for p in notice.paragraphs
        )
        return f"""<!DOCTYPE html>
<html lang="zh">
<head>
<meta charset="UTF-8">
<title>{esc(notice.title)}</title>
<meta name="SiteName" content="{esc(ident.agency)}">
<meta name="SiteIDCode" content="{ident.id_code}">
<meta name="ColumnName" content="{esc(ident.column)}">
<meta name="ArticleTitle" content="{esc(notice.title)}">
<meta name="PubDate" content="{notice.date} 09:30">
<meta name="ContentSource" content="{meta(notice, "source")}">
<meta name="url" content="{self.detail_path(site, notice)}">
<link rel="stylesheet" href="/script/page.css">
</head>
<body>
<div class="header"><div class="logo">{esc(ident.agency)}</div></div>
<div class="current-position"><table cellspacing="0" cellpadding="0" border="0"><tr><td>当前位置：<a href="/index.html">首页</a></td><td> &gt; <a href="{self.entry_path(site)}">{esc(ident.column)}</a></td></tr></table></div>
<div class="main"><div class="wzy_cont">
<table border="1" width="1000" align="center" cellpadding="0" cellspacing="0" class="xxgk">
<tr><td>索引号: {meta(notice, "index_no")}</td><td>文件编号: {meta(notice, "doc_no")}</td><td>发布机构: {meta(notice, "publisher")}</td></tr>
<tr><td>生成日期: {meta(notice, "written_date")}</td><td>主题分类: {meta(notice, "category")}</td><td>公开方式: 主动公开</td></tr>
</table>
<table width="100%" border="0" align="center" cellpadding="0" cellspacing="1" id="c">
<tr><td align="center" class="title">{esc(notice.title)}</td></tr>
<tr><td style="height:15px; border-bottom:2px solid #eee;"></td></tr>
<tr><td><table border="0" width="90%" class="bt_size_14"><tr>
<td width="25%" align="center">发布日期：{notice.date}</td>
<td width="25%" align="center">来源：{meta(notice, "source")}</td>
<td width="25%" align="center">浏览次数：{counter}</td>
<td width="25%" align="center">字体：[ <a href="javascript:doZoom(16)">大</a> <a href="javascript:doZoom(14)">中</a> <a href="javascript:doZoom(12)">小</a> ]</td>
</tr></table></td></tr>
<tr><td class="bt_content"><div id="zoom">
<!--ZJEG_RSS.content.begin--><meta name="ContentStart">{body}<meta name="ContentEnd"><!--ZJEG_RSS.content.end-->
</div></td></tr>
{f'<tr><td class="fujian"><p>相关附件：</p>{files}</td></tr>' if files else ""}
<tr><td><table width="100%" border="0"><tr>
<td width="57" align="left">分享到：</td><td><div id="share-2"></div></td>
<td align="right"><a href="javascript:window.print()">【打印本页】</a><a href="javascript:window.close();">【关闭本页】</a></td>
</tr></table></td></tr>
</table>
</div></div>
<div class="footer"><p>主办单位：{esc(ident.agency)}　网站标识码：{ident.id_code}　<a href="https://beian.miit.gov.cn/">{esc(ident.icp)}</a></p></div>
<iframe src="/module/visitcount/visit.jsp?type=3&amp;i_webid={ident.web_id}&amp;i_columnid={ident.column_id}&amp;i_articleid={esc(notice.id)}" style="display:none"></iframe>
</body>
</html>
"""
