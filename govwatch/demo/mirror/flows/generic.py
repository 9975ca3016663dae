"""An unseen site: plain HTML with no CMS marker, the case the generic extractor is for.

    /tzgg/index.html, /tzgg/index_2.html …       listing pages, 首页/上一页/下一页/尾页 links
    /tzgg/YYYYMM/tYYYYMMDD_<id>.html             notices
    /tzgg/YYYYMM/<file>                          attachments

Notice pages carry the usual chrome of a small government site (navigation,
当前位置, 字号 大 中 小, 打印/关闭窗口, 分享到, a QR caption, 上一篇/下一篇, a footer
with 版权所有/网站标识码/ICP备) and a 信息公开 table in plain <table> markup. Class
names are everyday ones (article, info, con), none that a site rule would key on.
"""

# ruff: noqa: E501  (page templates: HTML lines read best unwrapped, like the pages they copy)

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from govwatch.demo.mirror.flows.base import Flow, esc, meta, pages, paragraphs_html
from govwatch.demo.mirror.model import MirrorNotice, Reply, Request

if TYPE_CHECKING:
    from govwatch.demo.mirror.site import MirrorSite

_PAGE = re.compile(r"^/tzgg/index(?:_(\d+))?\.html$")


def head(site: MirrorSite, title: str) -> str:
    ident = site.ident
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}_{esc(ident.agency)}</title>
<meta name="keywords" content="{esc(ident.agency)},{esc(ident.column)}">
<link rel="stylesheet" href="/css/style.css">
<script src="/js/jquery.min.js"></script>
</head>
<body>
<div class="top"><div class="wrap">
  <span class="welcome">欢迎访问{esc(ident.agency)}网站</span>
  <span class="links"><a href="/">首页</a> | <a href="javascript:void(0)">无障碍</a> | <a href="/m/">手机版</a></span>
</div></div>
<div class="header"><div class="wrap">
  <div class="logo"><a href="/">{esc(ident.agency)}</a></div>
  <form class="search" action="/search.html" method="get"><input type="text" name="q" placeholder="请输入关键词"><button type="submit">搜索</button></form>
</div></div>
<div class="nav"><ul class="wrap">
  <li><a href="/">首页</a></li>
  <li><a href="/jggk/index.html">机构概况</a></li>
  <li><a href="/zwgk/index.html">政务公开</a></li>
  <li class="on"><a href="/tzgg/index.html">{esc(ident.column)}</a></li>
  <li><a href="/jyxw/index.html">教育新闻</a></li>
  <li><a href="/bszn/index.html">办事指南</a></li>
  <li><a href="/hdjl/index.html">互动交流</a></li>
</ul></div>
"""


def foot(site: MirrorSite) -> str:
    ident = site.ident
    return f"""<div class="footer"><div class="wrap">
  <p><a href="/wzdt.html">网站地图</a> | <a href="/lxwm.html">联系我们</a> | <a href="/wzsm.html">网站声明</a></p>
  <p>主办：{esc(ident.agency)}　版权所有：{esc(ident.agency)}</p>
  <p>网站标识码：{ident.id_code}　<a href="https://beian.miit.gov.cn/" target="_blank">{esc(ident.icp)}</a></p>
</div></div>
</body>
</html>
"""


class GenericFlow(Flow):
    name = "generic"
    parser = "generic"
    shown_meta = (
        "index_no",
        "category",
        "publisher",
        "written_date",
        "doc_no",
        "validity",
        "published_date",
        "source",
    )

    def entry_path(self, site: MirrorSite) -> str:
        return "/tzgg/index.html"

    def detail_path(self, site: MirrorSite, notice: MirrorNotice) -> str:
        ym, ymd = notice.date[:7].replace("-", ""), notice.date.replace("-", "")
        return f"/tzgg/{ym}/t{ymd}_{notice.id}.html"

    def make_id(self, site: MirrorSite, serial: int, date: str) -> str:
        return str(3_100_000 + serial * 7 + site.number)

    def listing_fetches(self, site: MirrorSite) -> int:
        return pages(len(site.notices), site.page_size)

    def page_name(self, n: int) -> str:
        return "index.html" if n == 1 else f"index_{n}.html"

    def listing(self, site: MirrorSite, req: Request) -> Reply | None:
        m = _PAGE.match(req.target)
        if m is None:
            return None
        n = int(m.group(1) or 1)
        notices = list(site.notices)
        count = pages(len(notices), site.page_size)
        if n < 1 or n > count or m.group(1) == "1":
            return None
        rows = notices[(n - 1) * site.page_size : n * site.page_size]
        items = "\n".join(
            f'<li><a href="./{self.detail_path(site, x).removeprefix("/tzgg/")}" target="_blank" '
            f'title="{esc(x.title)}">{esc(x.title)}</a><span>{x.date}</span></li>'
            for x in rows
        )

        def link(k: int, label: str, ok: bool) -> str:
            return f'<a href="{self.page_name(k)}">{label}</a>' if ok else f"<span>{label}</span>"

        pager = " ".join(
            (
                f"<span>共{len(notices)}条 每页{site.page_size}条 第{n}/{count}页</span>",
                link(1, "首页", True),
                link(n - 1, "上一页", n > 1),
                link(n + 1, "下一页", n < count),
                link(count, "尾页", True),
            )
        )
        ident = site.ident
        text = (
            head(site, ident.column)
            + f"""<div class="wrap main">
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/tzgg/index.html">{esc(ident.column)}</a></div>
<div class="side"><h3>政务公开</h3><ul><li><a href="/zwgk/zcwj/index.html">政策文件</a></li><li><a href="/zwgk/ghjh/index.html">规划计划</a></li><li><a href="/zwgk/rsxx/index.html">人事信息</a></li></ul></div>
<div class="list-box">
<h2 class="list-title">{esc(ident.column)}</h2>
<ul class="list">
{items}
</ul>
<div class="pager">{pager}</div>
</div>
</div>
"""
            + foot(site)
        )
        return self.page(text)

    def detail(self, site: MirrorSite, notice: MirrorNotice, views: int | None) -> str:
        ident = site.ident
        counter = f"<span>浏览次数：{views}</span>" if views is not None else ""
        newer, older = self.neighbours(site, notice)

        def sibling(label: str, other: MirrorNotice | None) -> str:
            if other is None:
                return f"<p>{label}：无</p>"
            href = self.detail_path(site, other)
            return f'<p>{label}：<a href="{href}">{esc(other.title)}</a></p>'

        files = "".join(
            f'<p><a href="./{esc(f)}">{esc(name)}</a></p>' for name, f in notice.attachments
        )
        attachments = f'<div class="fujian"><p>附件：</p>{files}</div>' if files else ""
        return (
            head(site, notice.title)
            + f"""<div class="wrap main">
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/tzgg/index.html">{esc(ident.column)}</a> &gt; 正文</div>
<div class="article">
<table class="gk-table" border="1" cellspacing="0" cellpadding="0" width="100%">
<tr><th>索引号</th><td>{meta(notice, "index_no")}</td><th>主题分类</th><td>{meta(notice, "category")}</td></tr>
<tr><th>发布机构</th><td>{meta(notice, "publisher")}</td><th>成文日期</th><td>{meta(notice, "written_date")}</td></tr>
<tr><th>文号</th><td>{meta(notice, "doc_no")}</td><th>有效性</th><td>{meta(notice, "validity")}</td></tr>
</table>
<h1 class="article-title">{esc(notice.title)}</h1>
<div class="info"><span>发布时间：{notice.date}</span><span>来源：{meta(notice, "source")}</span>{counter}<span class="font">字号：<a href="javascript:setFont(18)">大</a> <a href="javascript:setFont(16)">中</a> <a href="javascript:setFont(14)">小</a></span></div>
<div class="con">
{paragraphs_html(notice)}
</div>
{attachments}
<div class="tools"><a href="javascript:window.print()">打印</a> <a href="javascript:window.close()">关闭窗口</a></div>
<div class="share">分享到：<a href="javascript:void(0)" title="微信">微信</a> <a href="javascript:void(0)" title="微博">微博</a> <a href="javascript:void(0)" title="QQ空间">QQ空间</a></div>
<div class="qr"><img src="/images/qrcode.png" alt=""><p>扫一扫在手机打开当前页</p></div>
<div class="prev-next">{sibling("上一篇", newer)}{sibling("下一篇", older)}</div>
</div>
</div>
"""
            + foot(site)
        )
