import pytest

from parsers.meta import MetaBuilder, add_pairs, read_meta_line
from parsers.text import find_date, is_chrome, squash, strip_qr_tail

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
