"""Listing rules on small pages built for one rule each: which list is the column, when a
short list makes a page a listing, year-less dates, and paging written in JavaScript."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from govwatch.parsers import clean
from govwatch.parsers.html import is_fetchable, parse_html
from govwatch.parsers.pagers import has_pager, js_next_pages
from govwatch.parsers.records import Expect

URL = "http://www.example.gov.cn/zwgk/tzgg/index_2.html"
FOOTER = """<div class="foot"><p>主办：某某县人民政府办公室　承办：某某县大数据中心</p>
<p>版权所有：某某县人民政府　网站标识码：1234560001　浙ICP备05000000号-1</p></div>"""


def _row(href: str, title: str, date: str) -> str:
    return f'<li><a href="{href}" title="{title}">{title}</a><span>{date}</span></li>'


def _column(rows: list[str], pager: str) -> str:
    return f'<div class="col-tit">通知公告</div><ul class="list">{"".join(rows)}</ul>{pager}'


COLUMN_ROWS = [
    _row(
        "./202305/t20230512_1.html", "某某县农业农村局关于合作社申报省级示范社的公示", "2023-05-12"
    ),
    _row(
        "./202303/t20230328_2.html",
        "关于公布某某县2023年第一批县级重点建设项目的通知",
        "2023-03-28",
    ),
    _row(
        "./202212/t20221230_3.html",
        "某某县人民政府关于元旦春节期间烟花爆竹禁放的通告",
        "2022-12-30",
    ),
]
SIDEBAR_ROWS = [
    _row(
        f"/xwzx/gzdt/202611/t202611{20 + i}_{i}.html",
        f"某某县召开第{i}次冬季工作推进会议",
        f"2026-11-{20 + i}",
    )
    for i in range(8)
]
LAST_PAGER = (
    '<div class="fenye">共23条 当前第3/3页 <a href="index.html">首页</a> '
    '<a href="index_1.html">上一页</a> <span>下一页</span></div>'
)


def _page(left: str, right: str) -> str:
    return (
        "<html><head><title>通知公告 - 某某县人民政府</title></head><body>"
        f'<div class="wrap"><div class="l">{left}</div><div class="r">{right}</div></div>'
        f"{FOOTER}</body></html>"
    )


SIDEBARS = {
    "latest_heading": f'<div class="box"><div class="tit">最新发布</div><ul class="list">{"".join(SIDEBAR_ROWS)}</ul></div>',
    "side_class": f'<div class="side-box"><ul class="list">{"".join(SIDEBAR_ROWS)}</ul></div>',
    "neutral": f'<div class="box"><div class="tit">政务公开</div><ul class="list">{"".join(SIDEBAR_ROWS)}</ul></div>',
}


@pytest.mark.parametrize("expect", ["listing", None])
@pytest.mark.parametrize("sidebar", sorted(SIDEBARS))
@pytest.mark.parametrize(("rows", "pager"), [(3, LAST_PAGER), (3, ""), (1, "")])
def test_a_short_column_beats_a_longer_dated_sidebar(
    rows: int, pager: str, sidebar: str, expect: Expect
) -> None:
    # The last page of a column, or a new column without a pager, beside 8 dated rows.
    html = _page(SIDEBARS[sidebar], _column(COLUMN_ROWS[:rows], pager))
    page = clean(html, URL, expect=expect)
    assert page.kind == "listing"
    assert [i.url.rsplit("/", 1)[-1] for i in page.items] == [
        "t20230512_1.html",
        "t20230328_2.html",
        "t20221230_3.html",
    ][:rows]
    assert page.next_pages == ()


def test_a_new_column_of_one_notice_is_a_listing_without_the_hint() -> None:
    html = _page(
        '<ul class="menu"><li><a href="../zcwj/">政策文件</a></li></ul>',
        _column(COLUMN_ROWS[:1], ""),
    )
    page = clean(html, URL)
    assert page.kind == "listing"
    assert [(i.title, i.date) for i in page.items] == [
        ("某某县农业农村局关于合作社申报省级示范社的公示", "2023-05-12")
    ]


NOTICE = """<html><head><title>关于公布名单的公示 - 某某县人民政府</title></head><body>
<div class="article"><h1>关于公布2026年第二批示范家庭农场名单的公示</h1>
<div class="info">发布时间：2026-11-25 来源：县农业农村局</div>
<div class="content"><p>现将名单予以公示，详见附件。</p>
<p><a href="./P020261125.pdf">附件：名单.pdf</a></p></div></div>
<div class="xgwz"><div class="tit">相关文章</div><ul>{rows}</ul></div>{footer}</body></html>"""


@pytest.mark.parametrize("related", [2, 6])
def test_a_short_notice_with_a_related_list_stays_a_notice(related: int) -> None:
    # The notice's text is shorter than the related list's titles.
    rows = "".join(SIDEBAR_ROWS[:related])
    page = clean(NOTICE.format(rows=rows, footer=FOOTER), URL)
    assert page.kind == "detail"
    assert page.title == "关于公布2026年第二批示范家庭农场名单的公示"


def test_year_less_dates_make_no_listing_on_a_notice_page() -> None:
    # Rows dated 11-20 whose links carry no year: nothing says which year they are.
    rows = "".join(
        f'<li><a href="/content/{1000 + i}.html">某某县第{i}期工作简报发布</a><span>11-{10 + i}</span></li>'
        for i in range(6)
    )
    page = clean(NOTICE.format(rows=rows, footer=FOOTER), URL)
    assert page.kind == "detail"


def test_year_header_dates_the_rows_below_it() -> None:
    groups = "".join(
        f'<h4>{year}年</h4><ul class="yl">'
        + "".join(
            f'<li><a href="/public/{year}{i}.html">某某市{year}年第{i}批预算公开情况</a><span>{12 - i:02d}-1{i}</span></li>'
            for i in range(3)
        )
        + "</ul>"
        for year in (2026, 2025)
    )
    page = clean(_page("", f'<div class="con">{groups}</div>{LAST_PAGER}'), URL)
    assert page.kind == "listing"
    assert [i.date for i in page.items] == [
        "2026-12-10",
        "2026-11-11",
        "2026-10-12",
        "2025-12-10",
        "2025-11-11",
        "2025-10-12",
    ]


@pytest.mark.parametrize(
    ("script", "pages"),
    [
        # layui laypage: ceil(count / limit) pages, the template in the jump callback.
        (
            "laypage.render({elem: 'pg', count: 87, limit: 15, curr: 1, jump: function (obj, first)"
            " { if (!first) location.href = obj.curr == 1 ? 'index.html' : 'index_' + obj.curr + '.html'; }});",
            [f"index_{n}.html" for n in range(2, 7)],
        ),
        # The same with the page number in the query string.
        (
            "laypage.render({count: 40, limit: 10, curr: 2, jump: function (o) {"
            " location.href = 'list.html?pageNum=' + o.curr; }});",
            ["list.html?pageNum=3", "list.html?pageNum=4"],
        ),
        # A 0-based file numbering written as (page - 1).
        (
            'var pageCount = 4; var currentPage = 2; function go(p) { location.href = "list_" + (p - 1) + ".shtml"; }',
            ["list_2.shtml", "list_3.shtml"],
        ),
        # The known forms keep working.
        (
            'var countPage = 3; var currentPage = 0; createPageHTML(countPage, currentPage, "index", "shtml");',
            ["index_1.shtml", "index_2.shtml"],
        ),
        (
            "createPageHTML('page_div', 4, 1, 'index', 'shtml', 38);",
            ["index_2.shtml", "index_3.shtml", "index_4.shtml"],
        ),
        (
            'var totalPage = 3, currentPage = 1; var url = "index_" + n + ".html";',
            ["index_2.html", "index_3.html"],
        ),
        # Not a pager: a search URL, however many records are around.
        ("var total = 100, limit = 10; var u = 'search.do?q=' + keyword;", []),
        # A declaration's keyword is a word of its own: `outlet n = 3` declares nothing.
        ('let n = 3; createPageHTML(n, 0, "index", "shtml");', ["index_1.shtml", "index_2.shtml"]),
        ('outlet n = 3; createPageHTML(n, 0, "index", "shtml");', []),
    ],
)
def test_javascript_pagers(script: str, pages: list[str]) -> None:
    base = "http://www.example.gov.cn/zwgk/tzgg/"
    assert js_next_pages(script, base) == [base + p for p in pages]


def test_date_box_and_card_links() -> None:
    # A date box prints the day apart from the year and month; the link wraps a heading,
    # a summary and nothing else that is the title.
    rows = "".join(
        f'<li><div class="date"><span>{d}</span><p>2025-12</p></div>'
        f'<a href="./202512/t202512{d}_{d}.html"><h3>某某县关于第{d}项工作的通知</h3>'
        f"<p>为进一步做好相关工作，现将有关事项通知如下……</p></a></li>"
        for d in range(10, 16)
    )
    page = clean(f'<html><body><ul class="list">{rows}</ul></body></html>', URL)
    assert page.kind == "listing"
    assert [(i.title, i.date) for i in page.items][:2] == [
        ("某某县关于第10项工作的通知", "2025-12-10"),
        ("某某县关于第11项工作的通知", "2025-12-11"),
    ]


def test_year_less_date_in_brackets_at_the_end_of_the_link() -> None:
    rows = "".join(
        f'<li><a href="/art/2025/12/{d}/art_1_{d}.html">某某县关于第{d}项工作的通知[12-{d}]</a></li>'
        for d in range(10, 16)
    )
    page = clean(f'<html><body><ul class="list">{rows}</ul></body></html>', URL)
    assert [(i.title, i.date) for i in page.items][:1] == [
        ("某某县关于第10项工作的通知", "2025-12-10")
    ]


def test_an_expected_listing_without_dates_is_read_from_its_sentence_long_links() -> None:
    rows = "".join(
        f'<li><a href="./202512/t2025121{d}_{d}.html">某某县人民政府关于第{d}批政策文件的通知</a></li>'
        for d in range(4)
    )
    menu = "".join(f'<li><a href="/zwgk/c{d}/">栏目{d}</a></li>' for d in range(6))
    links = "".join(
        f'<li><a href="http://www.gov{d}.cn/">某某省某某厅门户网站{d}</a></li>' for d in range(4)
    )
    html = (
        f'<html><body><div class="nav"><ul>{menu}</ul></div>'
        f'<div class="main"><ul class="list">{rows}</ul></div>'
        f'<div class="foot"><div class="yqlj"><ul>{links}</ul></div></div></body></html>'
    )
    page = clean(html, URL, expect="listing")
    assert [(i.title[-10:], i.date) for i in page.items] == [
        (f"第{d}批政策文件的通知", None) for d in range(4)
    ]
    assert clean(html, URL).kind == "detail"


def test_rows_with_summaries_are_a_listing_though_wordy() -> None:
    summary = (
        "某某县召开全县安全生产工作会议，传达学习上级有关会议精神，分析研判当前安全生产形势，"
        "安排部署下一阶段重点工作。"
    )
    rows = "".join(
        f'<li><a href="./202512/t202512{d}_{d}.html">某某县召开第{d}次安全生产工作会议</a>'
        f"<p>{summary}</p><span>2025-12-{d}</span></li>"
        for d in range(10, 22)
    )
    html = f'<html><body><div class="list"><ul>{rows}</ul></div>{FOOTER}</body></html>'
    page = clean(html, URL)
    assert page.kind == "listing"
    assert len(page.items) == 12


def test_year_less_dates_on_a_paged_column_make_a_listing() -> None:
    rows = "".join(
        f'<li><a href="/content/{1000 + i}.html">某某县第{i}期工作简报发布</a><span>11-{10 + i}</span></li>'
        for i in range(6)
    )
    html = _page("", f'<ul class="list">{rows}</ul>{LAST_PAGER}')
    page = clean(html, URL)
    assert page.kind == "listing"
    assert [i.date for i in page.items] == [None] * 6


def test_an_undated_column_beside_a_dated_latest_box() -> None:
    rows = "".join(
        f'<li><a href="./202512/t2025121{d}_{d}.html">某某县人民政府关于第{d}批政策文件的通知</a></li>'
        for d in range(6)
    )
    page = clean(
        _page(SIDEBARS["latest_heading"], f'<ul class="list">{rows}</ul>'), URL, expect="listing"
    )
    assert [i.url.rsplit("/", 1)[-1] for i in page.items] == [
        f"t2025121{d}_{d}.html" for d in range(6)
    ]


def test_a_table_row_is_dated_by_its_publication_column() -> None:
    header = "<tr><th>序号</th><th>索引号</th><th>标题</th><th>成文日期</th><th>发布日期</th></tr>"
    rows = "".join(
        f"<tr><td>{i}</td><td>113700000045/2025-0012{i}</td>"
        f'<td><a href="./202512/t2025121{i}_{i}.html">某某县人民政府关于第{i}项工作的通知</a></td>'
        f"<td>2025-12-0{i}</td><td>2025-12-1{i}</td></tr>"
        for i in range(1, 7)
    )
    html = f'<html><body><table class="gkml"><thead>{header}</thead><tbody>{rows}</tbody></table></body></html>'
    page = clean(html, URL)
    assert page.kind == "listing"
    assert [i.date for i in page.items] == [f"2025-12-1{i}" for i in range(1, 7)]


def test_links_resolve_against_the_base_element() -> None:
    rows = "".join(
        f'<li><a href="art/2025/12/1{i}/{i}.html">某某县人民政府关于第{i}项工作的通知</a><span>2025-12-1{i}</span></li>'
        for i in range(5)
    )
    html = (
        '<html><head><base href="http://www.example.gov.cn/site/"></head><body>'
        f'<ul class="list">{rows}</ul><div class="page"><a href="list_2.html">下一页</a></div></body></html>'
    )
    page = clean(html, "http://www.example.gov.cn/site/col/col12/list.html")
    assert page.items[0].url == "http://www.example.gov.cn/site/art/2025/12/10/0.html"
    assert page.next_pages == ("http://www.example.gov.cn/site/list_2.html",)


@pytest.mark.parametrize(
    ("shown", "tooltip", "title"),
    [
        # Cut on screen, whole in the tooltip.
        ("某某县人民政府关于进一步加强…", "某某县人民政府关于进一步加强安全生产工作的通知", None),
        # A tooltip of several lines, or a labelled one.
        (
            "某某县人民政府关于进一步加强安全生产工作的通知",
            "标题：某某县人民政府关于进一步加强安全生产工作的通知&#10;发布时间：2025-12-10",
            None,
        ),
        # A tooltip that is some other caption: the link text is the title.
        (
            "某某县人民政府关于进一步加强安全生产工作的通知",
            "点击查看某某县人民政府网站上的详细内容",
            "某某县人民政府关于进一步加强安全生产工作的通知",
        ),
    ],
)
def test_title_from_the_tooltip_only_when_it_is_the_whole_link_text(
    shown: str, tooltip: str, title: str | None
) -> None:
    rows = "".join(
        f'<li><a href="./202512/t2025121{i}_{i}.html" title="{tooltip}">{shown}</a><span>2025-12-1{i}</span></li>'
        for i in range(5)
    )
    page = clean(f'<html><body><ul class="list">{rows}</ul></body></html>', URL)
    assert page.items[0].title == (title or "某某县人民政府关于进一步加强安全生产工作的通知")


def test_a_search_form_with_notice_labels_is_no_notice_mark() -> None:
    form = (
        '<form class="search">标题：<input name="t"> 发布时间：<input name="a"> 至 <input name="b">'
        ' 来源：<select name="s"><option>全部</option></select> <button>检索</button></form>'
    )
    rows = "".join(SIDEBAR_ROWS[:3])
    html = _page("", f'{form}<ul class="list">{rows}</ul>{LAST_PAGER}')
    assert clean(html, URL).kind == "listing"


@pytest.mark.parametrize(
    "href",
    [
        "./202512/t20251218_1.html",
        "  HTTP://www.example.gov.cn/a.html ",
        "",
        " \t",
        "#top",
        "JavaScript:void(0)",
        " mailto:ban@example.gov.cn",
        "tel:12345",
        "data:text/html,x",
        "http://[::1]/a.html",
        "http://[::1/a.html",
        "http://::1]/a.html",
        "http://[v1.x]/",
        "http://www.\u2100.gov.cn/",
        "http://例子.政务/通知.html",
        "/公告/通知.html",
        "ｊavascript:void(0)",
    ],
)
def test_the_quick_link_test_agrees_with_a_parse_of_every_link(href: str) -> None:
    """is_fetchable parses no ASCII link without brackets: it says what a parse would."""
    lowered = href.strip().lower()
    try:
        urlsplit(lowered)
        parses = True
    except ValueError:
        parses = False
    skipped = lowered.startswith(("javascript:", "mailto:", "#", "tel:", "data:"))
    assert is_fetchable(href) == (bool(lowered) and not skipped and parses)


@pytest.mark.parametrize(
    ("body", "paged"),
    [
        ("<p>共 5 页</p>", True),
        ("<span>第1 / 4\n页</span>", True),
        ("<span>１/４页</span>", True),  # full-width digits count as digits
        ("<p>共五页</p>", False),
        ('<a href="1.html">上 一页</a> <a href="3.html">下一\u3000页</a>', True),
        ('<a href="/">首页</a> <a href="2.html">下一页</a>', True),
        # The words in text, not as links: no pager.
        ("<p>首页 下一页</p>", False),
        ('<a href="/">首页</a> <a href="a.html">上一篇</a> <a href="b.html">下一篇</a>', False),
        ('<script>createPageNav(4, 0, "index", "html")</script>', True),
    ],
)
def test_pager_words_page_counts_and_scripts(body: str, paged: bool) -> None:
    html = f"<html><body>{body}</body></html>"
    assert has_pager(parse_html(html), html) is paged
