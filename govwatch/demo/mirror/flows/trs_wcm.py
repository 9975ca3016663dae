"""TRS WCM (拓尔思), served GBK-encoded as older TRS sites still are.

    /col/index.html, /col/index_1.html …        listing pages; the pager exists only as
                                                createPageHTML(N, current, "index", "html")
    /col/YYYYMM/tYYYYMMDD_<id>.html             notices, body in .TRS_Editor
    /col/YYYYMM/P0<…>.<ext>                      attachments

Pages declare charset=gbk in the HTTP header and in <meta http-equiv>, so a crawler
that assumes UTF-8 gets mojibake; characters outside GBK are written as &#NNNN;
references, as TRS's publisher does. Notice pages follow the ministry layout: a
信息公开 table (索 引 号 / 主题分类 / 发文机关 / 成文日期 / 标　　题 / 发文字号 /
发布日期, dates as 2024年03月08日), <meta name="ArticleTitle|PubDate|ContentSource">,
the body in div.TRS_Editor, [放大字体][缩小字体]/[打印]/[关闭窗口] links and a QR caption.
"""

# ruff: noqa: E501  (page templates: HTML lines read best unwrapped, like the pages they copy)

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from govwatch.demo.mirror.flows.base import Flow, chinese_date, esc, meta, pages, paragraphs_html
from govwatch.demo.mirror.model import MirrorNotice, Reply, Request

if TYPE_CHECKING:
    from govwatch.demo.mirror.site import MirrorSite

_PAGE = re.compile(r"^/col/index(?:_(\d+))?\.html$")


def _head(site: MirrorSite, title: str, extra: str = "") -> str:
    ident = site.ident
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gbk" />
<title>{esc(title)}</title>
<meta name="SiteName" content="{esc(ident.agency)}" />
<meta name="SiteIDCode" content="{ident.id_code}" />
<meta name="ColumnName" content="{esc(ident.column)}" />
{extra}<link href="/images/common.css" rel="stylesheet" type="text/css" />
<script type="text/javascript" src="/images/jquery.js"></script>
</head>
<body>
<div class="header"><div class="w1000"><div class="logo">{esc(ident.agency)}</div>
<div class="head-links"><a href="/">网站首页</a> | <a href="javascript:void(0)" onclick="addFavorite()">加入收藏</a></div></div></div>
<div class="menu"><div class="w1000"><a href="/">首页</a><a href="/zwgk/">政务公开</a><a href="/col/index.html">{esc(ident.column)}</a><a href="/bsfw/">办事服务</a><a href="/gzcy/">公众参与</a></div></div>
"""


def _foot(site: MirrorSite) -> str:
    ident = site.ident
    return f"""<div class="footer"><div class="w1000">
<p>版权所有：{esc(ident.agency)}　　网站标识码：{ident.id_code}</p>
<p><a href="https://beian.miit.gov.cn/" target="_blank">{esc(ident.icp)}</a>　　建议使用1366×768分辨率浏览</p>
</div></div>
<script type="text/javascript" src="/images/footer.js"></script>
</body>
</html>
"""


class TrsWcmFlow(Flow):
    name = "trs_wcm"
    parser = "trs_wcm"
    shown_meta = (
        "index_no",
        "category",
        "publisher",
        "written_date",
        "doc_no",
        "published_date",
        "source",
    )
    charset = "gbk"

    def entry_path(self, site: MirrorSite) -> str:
        return "/col/index.html"

    def detail_path(self, site: MirrorSite, notice: MirrorNotice) -> str:
        ym, ymd = notice.date[:7].replace("-", ""), notice.date.replace("-", "")
        return f"/col/{ym}/t{ymd}_{notice.id}.html"

    def make_id(self, site: MirrorSite, serial: int, date: str) -> str:
        return str(1_366_000 + serial * 11 + site.number)

    def listing_fetches(self, site: MirrorSite) -> int:
        return pages(len(site.notices), site.page_size)

    def listing(self, site: MirrorSite, req: Request) -> Reply | None:
        m = _PAGE.match(req.target)
        if m is None:
            return None
        current = int(m.group(1) or 0)  # createPageHTML counts pages from 0
        notices = list(site.notices)
        count = pages(len(notices), site.page_size)
        if current >= count or m.group(1) == "0":
            return None
        rows = notices[current * site.page_size : (current + 1) * site.page_size]
        items = "\n".join(
            f'<li><a href="./{self.detail_path(site, x).removeprefix("/col/")}" target="_blank" '
            f'title="{esc(x.title)}">{esc(x.title)}</a><span>{x.date}</span></li>'
            for x in rows
        )
        ident = site.ident
        text = (
            _head(site, f"{ident.column}_{ident.agency}")
            + f"""<div class="w1000 main">
<div class="crumbs">当前位置：<a href="/">首页</a> &gt; <a href="/col/index.html">{esc(ident.column)}</a></div>
<div class="list">
<div class="list-hd">{esc(ident.column)}</div>
<ul>
{items}
</ul>
<div class="page">
<script type="text/javascript">
<!--
createPageHTML({count}, {current}, "index", "html");
//-->
</script>
</div>
</div>
</div>
"""
            + _foot(site)
        )
        return self.page(text)

    def detail(self, site: MirrorSite, notice: MirrorNotice, views: int | None) -> str:
        ident = site.ident
        pub = notice.meta.get("published_date", notice.date)
        extra = (
            f'<meta name="ArticleTitle" content="{esc(notice.title)}" />\n'
            f'<meta name="PubDate" content="{notice.date} 10:00" />\n'
            f'<meta name="ContentSource" content="{meta(notice, "source")}" />\n'
        )
        counter = f"<span>阅读次数：{views}</span>" if views is not None else ""
        written = notice.meta.get("written_date", "")
        files = "".join(
            f'<li><a href="./{esc(f)}" oldsrc="/protect/{esc(f)}">{esc(name)}</a></li>'
            for name, f in notice.attachments
        )
        return (
            _head(site, notice.title, extra)
            + f"""<div class="w1000 main">
<div class="crumbs">当前位置：<a href="/">首页</a> &gt; <a href="/col/index.html">{esc(ident.column)}</a></div>
<div class="xxgk-head">
<table border="0" cellpadding="0" cellspacing="0" class="xxgk-table">
<tr><td><b>索 引 号：</b></td><td>{meta(notice, "index_no")}</td><td><b>主题分类：</b></td><td>{meta(notice, "category")}</td></tr>
<tr><td><b>发文机关：</b></td><td>{meta(notice, "publisher")}</td><td><b>成文日期：</b></td><td>{chinese_date(written) if written else ""}</td></tr>
<tr><td><b>标　　题：</b></td><td colspan="3">{esc(notice.title)}</td></tr>
<tr><td><b>发文字号：</b></td><td>{meta(notice, "doc_no")}</td><td><b>发布日期：</b></td><td>{chinese_date(pub)}</td></tr>
</table>
</div>
<div class="article">
<h1 class="article-title">{esc(notice.title)}</h1>
<div class="pages-date">{notice.date} 10:00<span class="font">来源：{meta(notice, "source")}</span>{counter}</div>
<div class="pages_content" id="UCAP-CONTENT">
<div class="TRS_Editor"><div class="Custom_UnionStyle">
{paragraphs_html(notice, "text-indent: 2em; font-family: 仿宋_GB2312; font-size: 16pt;")}
</div></div>
</div>
{f'<div class="attachment"><p>相关附件：</p><ul>{files}</ul></div>' if files else ""}
<div class="div_qrcode"><div>扫一扫在手机打开当前页</div><div id="qrcode"></div></div>
<div class="article-tools">
<a href="javascript:doZoom(18)">[放大字体]</a> <a href="javascript:doZoom(14)">[缩小字体]</a>
<a href="javascript:window.print();">[打印]</a> <a href="javascript:window.close()">[关闭窗口]</a>
</div>
</div>
</div>
"""
            + _foot(site)
        )
