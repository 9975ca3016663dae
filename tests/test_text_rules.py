import pytest
from hypothesis import given
from hypothesis import strategies as st

from govwatch.parsers.meta import MetaBuilder, add_pairs, read_meta_line
from govwatch.parsers.text import (
    _CJK_BREAK,
    _CONTROL,
    find_date,
    is_chrome,
    month_day,
    split_title,
    squash,
    squash_parts,
    strip_qr_tail,
    with_year,
)

CHROME = [
    "字号：〖 大 中 小 〗",
    "字号： 默认 小 大",
    "字体：[ 大 中 小 ]",
    "【字体： 大 中 小 】",
    "[放大字体][缩小字体]",
    "【打印本页】 【关闭窗口】",
    "打印 | 关闭",
    "【关闭当前页面】",
    "• 字号:",
    "• |",
    "• 打印",
    "分享到：",
    "分享 时间: 加入收藏 我要投稿 点赞",
    "扫一扫在手机打开当前页",
    "扫一扫在手机上查看当前页面",
    "扫一扫在手机上打开页面",
    "微信扫码分享",
    "微信扫码领取福利",
    "领取福利",
    "221381",
    "浏览次数：1024",
    "阅读次数:",
    "上一篇：无",
    "下一篇：关于做好2024年招生工作的通知",
    "当前位置：首页 > 信息公开 > 通知公告",
    "您当前的位置：首页 > 政务公开",
    "版权所有：靖江市教育局 苏ICP备05012345号",
    "网站标识码：3212820001",
    "主办：张店区教育和体育局 承办：张店区大数据中心",
    "好文档 - 专业文书写作范文服务资料分享网站",
    "返回顶部",
]

TEXT = [
    "各学区、园林分局,局直各单位:",
    "现将《市教育局2024年工作要点》印发给你们，请认真贯彻执行。",
    "2024年3月8日",
    "附件：",
    "1",
    "大",
    "市教育局办公室",
    "请各单位于3月10日前将打印稿报送至局办公室，并分享经验做法。",
    "一、工作思路",
]


@pytest.mark.parametrize("line", CHROME)
def test_chrome_lines_are_recognised(line: str) -> None:
    assert is_chrome(line)


@pytest.mark.parametrize("line", [t for t in TEXT if t not in ("大",)])
def test_notice_text_is_not_chrome(line: str) -> None:
    assert not is_chrome(line)


def test_qr_caption_glued_to_the_last_paragraph_is_cut() -> None:
    line = "加强督学队伍建设，切实发挥督导作用。扫一扫在手机上查看当前页面"
    assert strip_qr_tail(line) == "加强督学队伍建设，切实发挥督导作用。"
    assert strip_qr_tail("正文没有二维码。") == "正文没有二维码。"


def test_squash_joins_source_line_breaks_between_chinese() -> None:
    assert squash("\u3000\u3000第一段\n  接着写。 Word  next\u00a0 ") == "第一段接着写。 Word next"


def _squashed(text: str) -> str:
    """squash as defined: breaks between CJK characters out, controls to spaces, runs of
    whitespace to one space, ends trimmed (one pass of each rule over the whole text)."""
    return " ".join(_CONTROL.sub(" ", _CJK_BREAK.sub("", text)).split())


@given(st.text(alphabet="中文\u3000，a1 \t\r\n\x01\x0b\xa0\u200b\x00", max_size=16))
def test_squash_is_its_definition_on_any_text(text: str) -> None:
    assert squash(text) == _squashed(text)
    assert squash_parts(text) == [
        _squashed(part) for part in text.split("\x00") if part and not part.isspace()
    ]


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("2024年3月8日", "2024-03-08"),
        ("发布时间：2024-10-02 05:23", "2024-10-02"),
        ("2020/12/15", "2020-12-15"),
        ("2019.09.18", "2019-09-18"),
        ("20240308", "2024-03-08"),
        ("第2024-13-40号", None),
        ("无", None),
    ],
)
def test_find_date(text: str, date: str | None) -> None:
    assert find_date(text) == date


@pytest.mark.parametrize(
    ("text", "title", "date"),
    [
        ("关于做好冬季防火工作的通知[2025-12-18]", "关于做好冬季防火工作的通知", "2025-12-18"),
        ("关于做好冬季防火工作的通知 （2025-11-03）", "关于做好冬季防火工作的通知", "2025-11-03"),
        ("品种审定公告（第3号）(2025-11-06)", "品种审定公告（第3号）", "2025-11-06"),
        ("【2025年11月6日】品种审定公告", "品种审定公告", "2025-11-06"),
        ("2025-11-06 品种审定公告", "品种审定公告", "2025-11-06"),
        ("[置顶]为民办实事项目征集公告", "为民办实事项目征集公告", None),
        ("置顶 为民办实事项目征集公告【new】", "为民办实事项目征集公告", None),
        (
            "关于开展丰收节活动（9月20日—10月10日）的通知",
            "关于开展丰收节活动（9月20日—10月10日）的通知",
            None,
        ),
        ("办法（试行）", "办法（试行）", None),
        ("新时代文明实践中心名单", "新时代文明实践中心名单", None),
        ("关于2026年12月1日起实施限行措施的通告", "关于2026年12月1日起实施限行措施的通告", None),
        ("通知[2025-12-18]", "通知[2025-12-18]", None),
    ],
)
def test_split_title(text: str, title: str, date: str | None) -> None:
    assert split_title(text)[:2] == (title, date)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11-20", (11, 20)),
        ("[06-02]", (6, 2)),
        ("6月2日", (6, 2)),
        ("11/20", (11, 20)),
        ("1.5", None),
        ("3-4", None),
        ("13-01", None),
        ("0557-3021486", None),
        ("2025-11-20", None),
        ("发布 11-20", None),
    ],
)
def test_month_day_is_a_whole_year_less_date(text: str, expected: tuple[int, int] | None) -> None:
    assert month_day(text) == expected


@pytest.mark.parametrize(
    ("month_day_", "path", "date"),
    [
        ((6, 2), "/art/2026/6/3/art_1229421816_59138846.html", "2026-06-02"),
        ((11, 20), "/gk/tz/202611/t20261120_550731.shtml", "2026-11-20"),
        ((11, 26), "/2026/11-26/3187452.html", "2026-11-26"),
        ((12, 31), "/art/2027/1/2/art_1_2.html", "2026-12-31"),
        ((1, 2), "/202512/t20251231_1.html", "2026-01-02"),
        ((11, 20), "/public/6592101/171902614.html", None),
        ((11, 20), "/content_2018123.html", None),
    ],
)
def test_year_from_the_notice_url(month_day_: tuple[int, int], path: str, date: str | None) -> None:
    assert with_year(*month_day_, path) == date


def _meta(*lines: str) -> dict[str, str]:
    builder = MetaBuilder()
    for line in lines:
        pairs = read_meta_line(line, header=True)
        assert pairs is not None, line
        add_pairs(builder, pairs)
    return builder.meta()


def test_label_variants_map_to_canonical_keys() -> None:
    assert _meta(
        "索 引 号：002482082/2024-00332 主题分类：教育",
        "发布单位：靖江市教育局 文　　号：靖教发〔2024〕3号",
        "生成日期：2024年10月21日 有 效 性：有效",
        "发文日期 2023-05-19",
        "信息来源：新闻办 更新时间：2024-10-22 09:00",
    ) == {
        "index_no": "002482082/2024-00332",
        "category": "教育",
        "publisher": "靖江市教育局",
        "doc_no": "靖教发〔2024〕3号",
        "written_date": "2024-10-21",
        "validity": "有效",
        "issued_date": "2023-05-19",
        "source": "新闻办",
        "published_date": "2024-10-22",
    }


def test_pipe_table_with_empty_cells() -> None:
    assert _meta(
        "索引号 | 014437609/2023-00761 | 主题分类 | |",
        "发布单位 | 靖江市教育局 | 发文日期 | 2023-05-19 |",
        "文号 | 时效 |",
    ) == {
        "index_no": "014437609/2023-00761",
        "publisher": "靖江市教育局",
        "issued_date": "2023-05-19",
    }


def test_weak_labels_in_the_body_are_text() -> None:
    assert read_meta_line("时间：2024年3月8日上午9:00", header=False) is None
    assert read_meta_line("序号 | 学校 | 时间", header=False) is None
    assert read_meta_line("时间：2024年3月8日", header=True) is not None
