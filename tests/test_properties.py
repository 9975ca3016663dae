"""Property tests: no input makes the decoder or a parser fail other than with govwatch's
own errors, and the text cleaner is idempotent.

Pages are built from a grammar of the tags, class names, links, labels, chrome and
paging scripts that government pages are made of, mixed with arbitrary text, so every
parser's paths (listings, JavaScript paging, 信息公开 tables, challenges) get exercised
with hostile values. That a diff applied to the old version gives the new one is
tests/test_diff.py's property test.
"""

from __future__ import annotations

import codecs
import contextlib
import html

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govwatch.errors import GovwatchError
from govwatch.parsers import clean, registry
from govwatch.parsers.body import clean_body
from govwatch.parsers.decode import decode_html
from govwatch.parsers.meta import MetaBuilder
from govwatch.parsers.textdump import clean_text

QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- the decoder ----------------------------------------------------------------------

CONTENT_TYPES = [
    None,
    "text/html",
    "text/html; charset=utf-8",
    "text/html; charset=GBK",
    "text/html; charset=gb2312",
    "text/html; charset=utf-16",
    "text/html; charset=klingon",
    'text/html; charset="big5"',
    "application/octet-stream",
    "text/html; charset=",
]
PREFIXES = [
    b"",
    codecs.BOM_UTF8,
    codecs.BOM_UTF16_LE,
    codecs.BOM_UTF16_BE,
    codecs.BOM_UTF32_LE,
    b'<meta charset="gbk">',
    b"<meta http-equiv=Content-Type content='text/html; charset=x-unknown'>",
    b"<\x00h\x00t\x00m\x00l\x00>\x00<\x00b\x00o\x00d\x00y\x00>\x00",
    "<html><body>关于开展检查的通知".encode("gb18030"),
    "<html><body>关于开展检查的通知".encode(),
]


@QUICK
@given(st.sampled_from(PREFIXES), st.binary(max_size=3000), st.sampled_from(CONTENT_TYPES))
def test_decode_raises_only_govwatch_errors(prefix: bytes, data: bytes, kind: str | None) -> None:
    try:
        decoded = decode_html(prefix + data, kind)
    except GovwatchError:
        return
    assert isinstance(decoded.text, str)


# --- the parsers ----------------------------------------------------------------------

TAGS = [
    "div", "p", "span", "table", "tbody", "tr", "td", "th", "ul", "li", "a", "h1", "h2",
    "strong", "font", "script", "style", "title", "head", "body", "form", "iframe", "em",
]  # fmt: skip
VOID = ["br", "img", "meta", "input", "hr"]
CLASSES = [
    "content", "TRS_Editor", "article", "article-title", "nav", "footer", "list", "pager",
    "title", "info", "zoom", "bt_content", "xxgk_table", "share", "wzzw-article",
    "doc-content", "doc-title", "position", "con", "gk-table", "default_pgContainer",
]  # fmt: skip
HREFS = [
    "./t20240101_3100007.html", "/col/col1234/index.html", "index_2.html", "index_1.html",
    "/art/2024/1/1/art_1234_5678.html", "javascript:void(0)", "#", "http://[::1",
    "//[x", "http://a:99999/", "mailto:a@b.cn", "../files/附件.pdf", "?page=2", "",
    "data:text/html,x", "http://127.0.0.1/\x1b[31m.html", "http://www.zhangdian.gov.cn/x",
    "/module/download/downfile.jsp?filename=a.doc", "t2024%zz.html", " \n ",
]  # fmt: skip
TEXTS = [
    "关于开展校园安全检查的通知", "各学校：", "索引号：", "014437609/2023-00761",
    "发布日期：2024-03-08", "发布机构", "成文日期", "文号", "青教发〔2024〕1号", "有效性",
    "下一页", "尾页", "上一页", "首页", "末页", "1", "2", "3", "打印", "关闭窗口", "附件：",
    "扫一扫在手机打开当前页", "版权所有：某某县教育局", "页面不存在", "很抱歉，您访问的页面不存在！",
    "2024-06-01", "第1/3页", "共30条", "浏览次数：77", "当前位置：首页 > 通知公告",
    "为做好春季开学校园安全工作，决定开展一次全面检查。请各校认真自查，于3月15日前报送。",
    "<", ">", "&amp;", "&#27;", "&#0;", "\x00", "\u3000", "\u202e", "]]>", "<![CDATA[",
]  # fmt: skip
SCRIPTS = [
    'createPageHTML(3, 0, "index", "html");',
    "createPageHTML(99999999, 0, 'index', 'html');",
    "createPageHTML(x, y);",
    'createPageNav("", 1, 3, "index", "html");',
    "createPageNav('', pageInfo.cur, pageInfo.count, 'index', 'html'); var pageInfo = {cur: 1, count: 4};",
    "var pageCount = 5; var currentPage = 0;",
    "$_ts=window['$_ts'];if(!$_ts)$_ts={};",
    "document.cookie=('_')+('_jsl_clearance_s=1|0|')",
    "proxyUrl: '/module/web/jpage/dataproxy.jsp', perPage: 15, groupSize: 3, totalRecord: 45",
    "proxyUrl: 'dataproxy.jsp', perPage: 0, groupSize: 0, totalRecord: 99",
    "perPage: 1, groupSize: 1, totalRecord: 99999999999",
]  # fmt: skip
DATASTORES = [
    "<datastore><nextgroup><![CDATA[<a href=\"/module/web/jpage/dataproxy.jsp?page=1&webid=1&columnid=2\"></a>]]></nextgroup>"
    "<recordset><record><![CDATA[<li><a href=\"/art/2024/1/1/art_1_1.html\">关于开展校园安全检查的通知</a><span>2024-01-01</span></li>]]></record></recordset></datastore>",
    "<datastore><nextgroup><![CDATA[<a href=\"http://[::1/dataproxy.jsp?x=1\"></a>]]></nextgroup></datastore>",
    "<script url=\"/page/build/unit?webId=1\" queryData=\"{'webId':1,'tagId':'通知公告'}\"></script>",
    "<script url=\"/page/build/unit\" queryData=\"[1, 2]\"></script>",
    "<script url=\"/page/build/unit\" queryData=\"{'a': \"></script>",
    '<meta name="PubDate" content="2024-03-08 10:00"><meta name="ContentSource" content="县教育局">',
    "<!--ZJEG_RSS.content.begin--><p>正文</p><!--ZJEG_RSS.content.end-->",
    '<meta name="ContentStart"><p>正文</p><meta name="ContentEnd">',
    '{"data": {"html": "<li><a href=\\"/a.html\\">关于开展检查</a></li>", "total": "x"}}',
    '{"data": [1, 2, 3]}',
]  # fmt: skip
URLS = [
    None,
    "http://www.example.gov.cn/tzgg/index.html",
    "http://www.zhangdian.gov.cn/gongkai/site_abc/channel_123/index.html",
    "http://www.jingjiang.gov.cn/col/col1234/index.html",
    "https://www.jingjiang.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=x",
    "http://jyt.tl.gov.cn/xxgk/index.html",
    "http://jyj.hbqj.gov.cn/zwgk/index.html",
    "http://www.example.gov.cn/page/build/unit?webId=1&paramJson=%7B%22pageNo%22%3A2%7D",
]

text = st.one_of(st.sampled_from(TEXTS), st.text(max_size=12))
attributes = st.dictionaries(
    st.sampled_from(["class", "id", "href", "title", "style", "charset", "content", "name", "src"]),
    st.one_of(st.sampled_from(CLASSES), st.sampled_from(HREFS), text),
    max_size=3,
)


def _attrs(values: dict[str, str]) -> str:
    return "".join(f' {k}="{html.escape(v, quote=True)}"' for k, v in values.items())


def _element(tag: str, attrs: dict[str, str], children: list[str]) -> str:
    if tag == "script":
        return f"<script{_attrs(attrs)}>{''.join(children)}</script>"
    return f"<{tag}{_attrs(attrs)}>{''.join(children)}</{tag}>"


leaf = st.one_of(
    text,
    st.sampled_from(DATASTORES),
    st.sampled_from(SCRIPTS).map(lambda s: f"<script>{s}</script>"),
    st.builds(lambda t, a: f"<{t}{_attrs(a)}>", st.sampled_from(VOID), attributes),
)
tree = st.recursive(
    leaf,
    lambda children: st.builds(
        _element, st.sampled_from(TAGS), attributes, st.lists(children, max_size=5)
    ),
    max_leaves=40,
)
page = st.lists(tree, min_size=1, max_size=6).map(
    lambda parts: (
        "<html><head><meta charset='utf-8'></head><body>" + "".join(parts) + "</body></html>"
    )
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    page,
    st.sampled_from(URLS),
    st.sampled_from(registry.names()),
    st.sampled_from([None, 200, 412, 521]),
)
def test_every_parser_raises_only_govwatch_errors(
    markup: str, url: str | None, parser: str, status: int | None
) -> None:
    try:
        result = clean(markup, url, parser=parser, status=status)
    except GovwatchError:
        return
    assert result.kind in ("detail", "listing", "challenge")
    assert len(result.next_pages) <= 1000, "a page may not make the crawler walk for ever"


@QUICK
@given(st.lists(tree, min_size=1, max_size=4).map("".join), st.sampled_from(URLS))
def test_chosen_parser_raises_only_govwatch_errors(markup: str, url: str | None) -> None:
    """Without --parser: by host, by page markers, or the generic one; fragments too."""
    with contextlib.suppress(GovwatchError):
        clean(markup, url)


# --- the text cleaner ------------------------------------------------------------------

LINES = [
    "关于开展安全检查的通知", "各学校：", "索引号：014437609/2023-00761", "发布日期：2024-03-08",
    "发布机构：某某县教育局", "一、总体要求", "请各校于3月15日前报送。", "特此通知。",
    "某某县教育局", "2024年3月8日", "打印 关闭", "扫一扫在手机打开当前页", "版权所有：某某县教育局",
    "字号：大 中 小", "文号 | 青教发〔2024〕1号", "附件：检查表.xlsx", "浏览次数：77",
    "上一篇：关于…", "|", "标题：关于开展安全检查的通知", "来源：县教育局", "（一）加强领导",
    "为做好春季开学校园安全工作，决定开展一次全面检查。请各校认真自查。扫一扫在手机打开当前页",
]  # fmt: skip
line = st.one_of(st.sampled_from(LINES), st.text(max_size=20))


@QUICK
@given(st.lists(line, max_size=25), st.one_of(st.just(""), st.sampled_from(LINES)))
def test_cleaning_a_cleaned_body_changes_nothing(lines: list[str], title: str) -> None:
    once = clean_body([x for x in lines if x.strip()], title, MetaBuilder())
    assert clean_body(once, title, MetaBuilder()) == once


TITLES = [
    "关于开展安全检查的通知",
    "关于做好2024年暑期安全教育工作的通知",
    "某某县教育局2023年工作总结",
]
META_LINES = ["索引号：014437609/2023-00761", "发布日期：2024-03-08", "发布机构：某某县教育局",
              "文号：青教发〔2024〕1号", "索引号 | 014437609/2023-00761 | 发布日期 | 2024-03-08"]  # fmt: skip
CHROME = ["打印 关闭", "扫一扫在手机打开当前页", "版权所有：某某县教育局", "字号：大 中 小", "浏览次数：77",
          "【打印本页】【关闭窗口】", "上一篇：关于…"]  # fmt: skip
sentence = st.builds(
    lambda opening, words: opening + words + "。",
    st.sampled_from(["各学校要", "请各单位", "为做好", "根据上级要求，", "现将有关事项通知如下："]),
    st.text(alphabet="安全检查工作教育学校单位落实组织开展情况报送自查整改年月日，、（）《》0123456789", min_size=1, max_size=60),
)  # fmt: skip
body_line = st.one_of(
    sentence,
    st.sampled_from(["各学校：", "一、总体要求", "（一）加强领导", "1.做好准备", "特此通知。",
                     "某某县教育局", "2024年3月8日", "附件：检查表.xlsx"]),
)  # fmt: skip
dump = st.builds(
    lambda before, title, meta, body, after: "\n".join([*before, title, *meta, *body, *after]),
    st.lists(st.sampled_from(CHROME), max_size=3),
    st.sampled_from(TITLES),
    st.lists(st.sampled_from(META_LINES), max_size=4),
    st.lists(body_line, min_size=1, max_size=12),
    st.lists(st.sampled_from(CHROME), max_size=3),
)


@QUICK
@given(dump)
def test_cleaning_a_cleaned_dump_changes_nothing(text_dump: str) -> None:
    """A notice's dump, cleaned, then its title and body cleaned again: the same record."""
    page = clean_text(text_dump)
    again = clean_text(f"{page.title}\n{page.body}")
    assert (again.title, again.body) == (page.title, page.body)
