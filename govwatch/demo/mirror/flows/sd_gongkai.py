"""The Shandong "gongkai" 信息公开 platform (Zibo and its districts, e.g. 张店).

    /gongkai/site_<code>/channel_<24 hex>/index.html, index_2.html …
                                                listing pages; the pager is drawn only by
                                                createPageNav("pageNav", current, pages,
                                                "index", "html") (page n ≥ 2 is index_n.html)
    /gongkai/site_<code>/channel_<24 hex>/doc_<24 hex>.html
                                                notices
    /gongkai/site_<code>/uploadfiles/<file>     attachments

Modelled on tests/fixtures/sd_gongkai/: listing rows are li.clearfix with a link (some
hrefs relative `doc_….html`, some absolute, long titles cut to 27 characters plus
"..." with the full title in title=) and span.date; notice pages open with a header
table 标　　题 / 索 引 号 / 文　　号 / 发文日期 / 发布机构, then h2 title, a
发布日期 line and a 字号 | 打印 tool list, the body in div.doc-content#zoom between
<!-- 正文开始 --> and <!-- 正文结束 -->, a hidden QR caption, 分享到 and 【关闭窗口】.
Document ids are 24 hex like the platform's (MongoDB ObjectIds: the first 8 hex are
the creation time).
"""

# ruff: noqa: E501  (page templates: HTML lines read best unwrapped, like the pages they copy)

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from govwatch.demo.mirror.flows.base import Flow, esc, meta, pages, paragraphs_html
from govwatch.demo.mirror.model import MirrorNotice, Reply, Request

if TYPE_CHECKING:
    from govwatch.demo.mirror.site import MirrorSite

_SHORT = 27


def _head(site: MirrorSite, title: str, css: str, extra: str = "") -> str:
    ident = site.ident
    root = f"/gongkai/site_{ident.site_code}"
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<title>{esc(title)}_{esc(ident.agency)}</title>
<meta name="SiteName" content="{esc(ident.agency)}">
<meta name="SiteIDCode" content="{ident.id_code}">
<meta name="ColumnName" content="{esc(ident.column)}">
{extra}<link rel="stylesheet" type="text/css" href="/gongkai/css/common.css">
<link rel="stylesheet" type="text/css" href="/gongkai/css/{css}.css">
<script type="text/javascript" src="/gongkai/js/jquery-1.11.3.min.js"></script>
<script type="text/javascript" src="/gongkai/js/common.js"></script>
<script type="text/javascript" src="/gongkai/js/pagenav.js"></script>
</head>
<body>
<div class="gk-top"><div class="w1200 clearfix">
  <span class="fl">欢迎访问{esc(ident.agency)} 政府信息公开平台</span>
  <span class="fr"><a href="/" target="_blank">{esc(ident.agency)}</a> | <a href="javascript:void(0);" id="cniil_wza">无障碍浏览</a> | <a href="{root}/index.html">信息公开首页</a></span>
</div></div>
<div class="gk-banner"><div class="w1200">
  <h1 class="gk-sitename">{esc(ident.agency)}</h1>
  <div class="gk-search"><form action="/gongkai/search.html" method="get" target="_blank"><input type="text" name="q" placeholder="请输入关键字"><button type="submit">搜索</button></form></div>
</div></div>
<div class="gk-nav"><ul class="w1200 clearfix">
  <li><a href="{root}/index.html">首页</a></li>
  <li><a href="{root}/channel_{ident.channel[::-1]}/index.html">信息公开指南</a></li>
  <li class="on"><a href="{root}/channel_{ident.channel}/index.html">法定主动公开内容</a></li>
  <li><a href="{root}/channel_{ident.channel[12:]}{ident.channel[:12]}/index.html">信息公开年报</a></li>
</ul></div>
"""


def _foot(site: MirrorSite) -> str:
    ident = site.ident
    return f"""<div class="gk-footer"><div class="w1200">
  <p class="gk-footer-links"><a href="/gongkai/sitemap.html">网站地图</a> | <a href="/gongkai/contact.html">联系我们</a> | <a href="/gongkai/statement.html">网站声明</a></p>
  <p>主办：{esc(ident.agency)}&nbsp;&nbsp;&nbsp;版权所有：{esc(ident.agency)}</p>
  <p>网站标识码：{ident.id_code}&nbsp;&nbsp;&nbsp;<a href="https://beian.miit.gov.cn/" target="_blank">{esc(ident.icp)}</a></p>
</div></div>
</body>
</html>
"""


class SdGongkaiFlow(Flow):
    name = "sd_gongkai"
    parser = "sd_gongkai"
    shown_meta = ("index_no", "doc_no", "issued_date", "publisher", "published_date")

    def channel_dir(self, site: MirrorSite) -> str:
        ident = site.ident
        return f"/gongkai/site_{ident.site_code}/channel_{ident.channel}"

    def entry_path(self, site: MirrorSite) -> str:
        return f"{self.channel_dir(site)}/index.html"

    def detail_path(self, site: MirrorSite, notice: MirrorNotice) -> str:
        return f"{self.channel_dir(site)}/doc_{notice.id}.html"

    def attachment_path(self, site: MirrorSite, notice: MirrorNotice, filename: str) -> str:
        return f"/gongkai/site_{site.ident.site_code}/uploadfiles/{filename}"

    def make_id(self, site: MirrorSite, serial: int, date: str) -> str:
        stamp = int(datetime.fromisoformat(date).replace(hour=9, tzinfo=UTC).timestamp())
        tail = hashlib.sha256(f"{site.name}/{serial}".encode()).hexdigest()[:16]
        return f"{stamp + serial % 3600:08x}{tail}"

    def listing_fetches(self, site: MirrorSite) -> int:
        return pages(len(site.notices), site.page_size)

    def listing(self, site: MirrorSite, req: Request) -> Reply | None:
        prefix = self.channel_dir(site) + "/"
        if not req.target.startswith(prefix):
            return None
        m = re.fullmatch(r"index(?:_(\d+))?\.html", req.target[len(prefix) :])
        if m is None:
            return None
        n = int(m.group(1) or 1)
        notices = list(site.notices)
        count = pages(len(notices), site.page_size)
        if n > count or m.group(1) in ("0", "1"):
            return None
        rows = notices[(n - 1) * site.page_size : n * site.page_size]
        lines = []
        for i, x in enumerate(rows):
            if i and i % 5 == 0:
                lines.append('      <li class="line"></li>')
            href = f"doc_{x.id}.html" if i % 3 == 0 else self.detail_path(site, x)
            shown = x.title if len(x.title) <= _SHORT else x.title[:_SHORT] + "..."
            lines.append(
                f'      <li class="clearfix"><a href="{href}" target="_blank" '
                f'title="{esc(x.title)}">{esc(shown)}</a><span class="date">{x.date}</span></li>'
            )
        ident = site.ident
        root = f"/gongkai/site_{ident.site_code}"
        text = (
            _head(site, ident.column, "list")
            + f"""<div class="w1200 gk-main clearfix">
  <div class="gk-position">当前位置：<a href="{root}/index.html">首页</a> &gt; <a href="{root}/channel_{ident.channel}/index.html">{esc(ident.column)}</a></div>
  <div class="gk-left fl">
    <div class="gk-left-title">法定主动公开内容</div>
    <ul class="gk-left-menu">
      <li><a href="{root}/channel_{ident.channel[6:]}{ident.channel[:6]}/index.html">机构职能</a></li>
      <li class="on"><a href="{self.entry_path(site)}">{esc(ident.column)}</a></li>
      <li><a href="{root}/channel_{ident.channel[18:]}{ident.channel[:18]}/index.html">政策文件</a></li>
    </ul>
  </div>
  <div class="gk-right fr">
    <div class="gk-list-title"><span>{esc(ident.column)}</span></div>
    <ul class="gk-list">
{chr(10).join(lines)}
    </ul>
    <div class="gk-page" id="pageNav"></div>
    <script type="text/javascript">
      var pageInfo = {{totalRecord: {len(notices)}, pageSize: {site.page_size}, pageCount: {count}, currentPage: {n}}};
      createPageNav("pageNav", pageInfo.currentPage, pageInfo.pageCount, "index", "html");
    </script>
  </div>
</div>
"""
            + _foot(site)
        )
        return self.page(text)

    def detail(self, site: MirrorSite, notice: MirrorNotice, views: int | None) -> str:
        ident = site.ident
        root = f"/gongkai/site_{ident.site_code}"
        extra = (
            f'<meta name="ArticleTitle" content="{esc(notice.title)}">\n'
            f'<meta name="PubDate" content="{notice.date} 09:47">\n'
            f'<meta name="ContentSource" content="">\n'
        )
        counter = (
            f"<li>浏览次数：{views}</li>\n        <li>|</li>\n        " if views is not None else ""
        )
        files = "".join(
            f'<li><a href="{self.attachment_path(site, notice, f)}">{esc(name)}</a></li>'
            for name, f in notice.attachments
        )
        return (
            _head(site, notice.title, "detail", extra)
            + f"""<div class="w1200 gk-main">
  <div class="gk-position">当前位置：<a href="{root}/index.html">首页</a> &gt; <a href="{self.entry_path(site)}">{esc(ident.column)}</a></div>
  <div class="gk-detail">
    <div class="gk-xxgk">
      <table class="gk-xxgk-table" cellpadding="0" cellspacing="0" width="100%">
        <tbody>
          <tr><th width="14%">标&emsp;&emsp;题：</th><td colspan="3">{esc(notice.title)}</td></tr>
          <tr><th>索&nbsp;引&nbsp;号：</th><td width="36%">{meta(notice, "index_no")}</td><th width="14%">文&emsp;&emsp;号：</th><td width="36%">{meta(notice, "doc_no")}</td></tr>
          <tr><th>发文日期：</th><td>{meta(notice, "issued_date")}</td><th>发布机构：</th><td>{meta(notice, "publisher")}</td></tr>
        </tbody>
      </table>
    </div>
    <div class="doc-title"><h2>{esc(notice.title)}</h2></div>
    <div class="doc-info clearfix">
      <span class="doc-date fl">发布日期：{notice.date}</span>
      <ul class="doc-tools fr">
        {counter}<li>字号：<a href="javascript:void(0);" class="font-big" onclick="doZoom(20)" title="放大"></a><a href="javascript:void(0);" class="font-small" onclick="doZoom(14)" title="缩小"></a></li>
        <li>|</li>
        <li><a href="javascript:window.print();">打印</a></li>
      </ul>
    </div>
    <div class="doc-content" id="zoom">
<!-- 正文开始 -->
{paragraphs_html(notice)}
<!-- 正文结束 -->
<div class="doc-share-wx" style="display:none;">分享到微信：<img src="/gongkai/qrcode?url={self.detail_path(site, notice)}" alt="二维码"> 扫一扫在手机上查看当前页面</div>
    </div>
{f'    <div class="doc-attach"><p>附件：</p><ul>{files}</ul></div>' if files else ""}
    <div class="doc-share clearfix">
      <span class="fl">分享到：</span>
      <div class="bdsharebuttonbox fl"><a href="#" class="bds_weixin" data-cmd="weixin" title="分享到微信"></a><a href="#" class="bds_tsina" data-cmd="tsina" title="分享到新浪微博"></a></div>
    </div>
    <script type="text/javascript">document.write('<div class="doc-close"><a href="javascript:window.close();">【关闭窗口】</a></div>');</script>
  </div>
</div>
"""
            + _foot(site)
        )
