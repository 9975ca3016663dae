"""store.diff: paragraph alignment, character-level marks, and the three renderings."""

from __future__ import annotations

import difflib
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govwatch.store.diff import (
    BodyDiff,
    ParagraphDiff,
    Segment,
    SegmentOp,
    diff_bodies,
    to_html,
    to_json,
    to_unified,
)
from govwatch.store.hashing import changed_fields


def apply(old: str, d: BodyDiff) -> str:
    """The new body rebuilt from the diff: the check that a diff loses nothing. ValueError
    when `old` is not the diff's old side."""
    if old != "\n".join(p.old for p in d.paragraphs if p.old is not None):
        raise ValueError("old text does not match the diff's old side")
    return "\n".join(p.new for p in d.paragraphs if p.new is not None)


def chars(d: BodyDiff, op: SegmentOp) -> int:
    """Characters inserted or deleted (a folded equal character counts as both)."""
    return sum(len(s.text) for p in d.paragraphs for s in p.inline() if s.op == op)


NOTICE = [
    "关于做好2024年春季学期开学工作的通知",
    "各镇（街道）中心学校，局属各学校：",
    "为切实做好2024年春季学期开学各项工作，确保校园安全稳定，现将有关事项通知如下。",
    "一、开学时间。全区中小学定于2月26日正式开学，2月24日、25日学生报到注册。",
    "二、安全检查。各校要在开学前对校舍、食堂、消防设施开展一次全面排查，发现隐患立即整改。",
    "三、工作要求。各校要高度重视，明确责任人，于2月23日前将自查报告报送局安全办。",
    "联系人：王老师，联系电话：0523-84812345。",
    "靖江市教育局",
    "2024年2月18日",
]
OLD = "\n".join(NOTICE)


def edited(index: int, text: str | None) -> str:
    """The notice with paragraph `index` replaced (or removed when text is None)."""
    paragraphs = list(NOTICE)
    if text is None:
        del paragraphs[index]
    else:
        paragraphs[index] = text
    return "\n".join(paragraphs)


def ops(d: BodyDiff) -> list[str]:
    return [p.op for p in d.paragraphs]


def body_lines(unified: str) -> list[str]:
    """Added/removed lines of a unified diff, without the ---/+++ header."""
    return [
        line
        for line in unified.splitlines()
        if line[:1] in "+-" and not line.startswith(("--- ", "+++ "))
    ]


def test_added_sentence_inside_a_paragraph() -> None:
    new_para = "一、开学时间。全区中小学定于2月26日正式开学，请各校提前做好准备。2月24日、25日学生报到注册。"
    d = diff_bodies(OLD, edited(3, new_para))

    assert d.changed
    assert ops(d) == ["equal"] * 3 + ["change"] + ["equal"] * 5
    assert d.paragraphs[3].segments == (
        Segment("equal", "一、开学时间。全区中小学定于2月26日正式开学，"),
        Segment("insert", "请各校提前做好准备。"),
        Segment("equal", "2月24日、25日学生报到注册。"),
    )
    assert (chars(d, "insert"), chars(d, "delete")) == (len("请各校提前做好准备。"), 0)
    assert "<ins>请各校提前做好准备。</ins>" in to_html(d)
    assert '<p class="chg">' in to_html(d)
    assert to_unified(d) == (
        "--- a\n"
        "+++ b\n"
        "@@ -2,5 +2,5 @@\n"
        " 各镇（街道）中心学校，局属各学校：\n"
        " 为切实做好2024年春季学期开学各项工作，确保校园安全稳定，现将有关事项通知如下。\n"
        f"-{NOTICE[3]}\n"
        f"+{new_para}\n"
        f" {NOTICE[4]}\n"
        f" {NOTICE[5]}\n"
    )


def test_changed_characters_are_coalesced_across_a_lone_equal_char() -> None:
    new_para = "一、开学时间。全区中小学定于3月1日正式开学，2月28日、29日学生报到注册。"
    d = diff_bodies(OLD, edited(3, new_para))

    # "2月26" -> "3月1": the lone equal 月 is folded into the change.
    assert d.paragraphs[3].segments[:4] == (
        Segment("equal", "一、开学时间。全区中小学定于"),
        Segment("delete", "2月26"),
        Segment("insert", "3月1"),
        Segment("equal", "日正式开学，2月2"),
    )
    assert "<del>2月26</del><ins>3月1</ins>日正式开学" in to_html(d)


def test_deleted_paragraph() -> None:
    d = diff_bodies(OLD, edited(6, None))

    assert ops(d) == ["equal"] * 6 + ["delete"] + ["equal"] * 2
    assert d.paragraphs[6] == ParagraphDiff("delete", NOTICE[6], None)
    assert body_lines(to_unified(d)) == [f"-{NOTICE[6]}"]
    assert "@@ -5,5 +5,4 @@" in to_unified(d)
    assert f'<p class="del"><del>{NOTICE[6]}</del></p>' in to_html(d)
    assert (chars(d, "insert"), chars(d, "delete")) == (0, len(NOTICE[6]))


def test_moved_paragraph_is_a_delete_and_an_insert() -> None:
    paragraphs = list(NOTICE)
    paragraphs[4], paragraphs[5] = paragraphs[5], paragraphs[4]
    d = diff_bodies(OLD, "\n".join(paragraphs))

    assert sorted(ops(d)) == sorted(["equal"] * 8 + ["insert", "delete"])
    inserted = [p.new for p in d.paragraphs if p.op == "insert"]
    deleted = [p.old for p in d.paragraphs if p.op == "delete"]
    assert inserted == deleted
    assert sorted(body_lines(to_unified(d))) == sorted([f"+{inserted[0]}", f"-{deleted[0]}"])


def test_replaced_paragraph_with_unrelated_text_is_not_paired() -> None:
    d = diff_bodies(OLD, edited(6, "附件：开学工作自查表（请于开学首日填报）"))

    assert ops(d) == ["equal"] * 6 + ["delete", "insert"] + ["equal"] * 2
    assert body_lines(to_unified(d)) == [
        f"-{NOTICE[6]}",
        "+附件：开学工作自查表（请于开学首日填报）",
    ]


def test_replaced_block_pairs_the_edited_paragraph_and_inserts_the_new_one() -> None:
    paragraphs = list(NOTICE)
    paragraphs[3] = "一、开学时间。全区中小学定于3月1日正式开学，2月28日、29日学生报到注册。"
    paragraphs.insert(4, "因寒潮天气影响，开学时间相应调整。")
    d = diff_bodies(OLD, "\n".join(paragraphs))

    assert ops(d) == ["equal"] * 3 + ["change", "insert"] + ["equal"] * 5
    assert body_lines(to_unified(d)) == [
        f"-{NOTICE[3]}",
        f"+{paragraphs[3]}",
        "+因寒潮天气影响，开学时间相应调整。",
    ]
    assert '<p class="ins"><ins>因寒潮天气影响，开学时间相应调整。</ins></p>' in to_html(d)


def test_large_replaced_block_is_paired_in_chunks() -> None:
    # 200 x 200 paragraphs is past MAX_PAIR_CELLS, so pairing runs chunk by chunk.
    old = "\n".join(f"{n}号 张同学 计算机学院 拟录取" for n in range(200))
    new = "\n".join(f"{n}号 张同学 计算机学院 已录取" for n in range(200))
    d = diff_bodies(old, new)

    assert ops(d) == ["change"] * 200
    assert d.paragraphs[7].segments == (
        Segment("equal", "7号 张同学 计算机学院 "),
        Segment("delete", "拟"),
        Segment("insert", "已"),
        Segment("equal", "录取"),
    )
    assert apply(old, d) == new


def test_identical_bodies() -> None:
    d = diff_bodies(OLD, OLD)

    assert not d.changed
    assert (chars(d, "insert"), chars(d, "delete")) == (0, 0)
    assert to_unified(d) == ""
    assert to_html(d).count('<p class="eq">') == len(NOTICE)
    assert "<ins>" not in to_html(d) and "<del>" not in to_html(d)
    assert apply(OLD, d) == OLD


def test_html_escapes_untrusted_text_on_both_sides() -> None:
    old = "通知正文<script>alert(1)</script>结束\n旧段落\"引号\"与'单引号'&符号"
    new = "通知正文<script>alert(1)</script>已更新\n新段落\"引号\"与'单引号'&符号"
    page = to_html(diff_bodies(old, new))

    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;引号&quot;与&#x27;单引号&#x27;&amp;符号" in page
    assert '"' not in re.sub(r'<p class="\w+">', "", page)
    # Only our own tags remain.
    assert set(re.findall(r"</?\w+", page)) <= {"<p", "</p", "<ins", "</ins", "<del", "</del"}


def test_whole_paragraph_insert_and_delete_are_escaped_too() -> None:
    page = to_html(diff_bodies("<b>旧公告</b>", "请下载附件<a href='x'>"))
    assert page == (
        '<p class="del"><del>&lt;b&gt;旧公告&lt;/b&gt;</del></p>\n'
        '<p class="ins"><ins>请下载附件&lt;a href=&#x27;x&#x27;&gt;</ins></p>'
    )


def test_to_json_omits_missing_sides_and_empty_segments() -> None:
    d = diff_bodies("甲乙丙丁\n保留\n删除的段落", "甲X丙Y\n保留\n")
    data = to_json(d)

    assert data == [
        {
            "op": "change",
            "old": "甲乙丙丁",
            "new": "甲X丙Y",
            "segments": [
                {"op": "equal", "text": "甲"},
                {"op": "delete", "text": "乙丙丁"},
                {"op": "insert", "text": "X丙Y"},
            ],
        },
        {"op": "equal", "old": "保留", "new": "保留"},
        {"op": "delete", "old": "删除的段落"},
        {"op": "insert", "new": ""},
    ]
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data


def test_unified_context_and_labels() -> None:
    d = diff_bodies(OLD, edited(0, "关于做好2024年春季学期开学工作的补充通知"))
    lines = [
        "--- v1",
        "+++ v2",
        "@@ -1 +1 @@",
        f"-{NOTICE[0]}",
        "+关于做好2024年春季学期开学工作的补充通知",
    ]
    assert to_unified(d, context=0, old_label="v1", new_label="v2") == "\n".join(lines) + "\n"
    with pytest.raises(ValueError):
        to_unified(d, context=-1)


def test_unified_from_and_to_empty_body() -> None:
    assert to_unified(diff_bodies("", "第一段\n第二段")) == (
        "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+第一段\n+第二段\n"
    )
    assert to_unified(diff_bodies("第一段", "")) == "--- a\n+++ b\n@@ -1 +0,0 @@\n-第一段\n"


def test_apply_rejects_a_different_old_text() -> None:
    d = diff_bodies(OLD, edited(6, None))
    assert apply(OLD, d) == edited(6, None)
    with pytest.raises(ValueError):
        apply(edited(0, "另一份通知"), d)


def test_paragraph_diff_rejects_inconsistent_data() -> None:
    with pytest.raises(ValueError):
        ParagraphDiff("insert", "旧", "新")
    with pytest.raises(ValueError):
        ParagraphDiff("equal", "旧", "新")
    with pytest.raises(ValueError):
        ParagraphDiff("delete", "旧", None, (Segment("delete", "旧"),))
    with pytest.raises(ValueError):
        ParagraphDiff("change", "旧", "新", (Segment("delete", "旧"), Segment("insert", "新的")))


def test_changed_fields() -> None:
    """The store's changed fields between two versioned records: meta per key."""
    old: dict[str, object] = {
        "title": "关于开学工作的通知",
        "body": OLD,
        "meta": {"publisher": "靖江市教育局", "published_date": "2024-02-18", "index_no": "A01"},
        "attachments": [{"name": "自查表.docx", "url": "http://x.gov.cn/1.docx"}],
    }
    new: dict[str, object] = {
        **old,
        "body": edited(6, None),
        "meta": {"publisher": "靖江市教育局", "published_date": "2024-02-19", "doc_no": "3号"},
    }
    assert changed_fields(old, new) == (
        "body",
        "meta.doc_no",
        "meta.index_no",
        "meta.published_date",
    )
    assert changed_fields(old, old) == ()
    assert changed_fields({**old, "attachments": []}, old) == ("attachments",)


# Property tests: a small alphabet so that versions share a lot and pairing really happens.
ALPHABET = "通知关于的市局学校开工作。，、：（）<&\"'"
paragraph = st.text(alphabet=ALPHABET, max_size=8)
body = st.lists(paragraph, max_size=8).map("\n".join)


@st.composite
def edited_pair(draw: st.DrawFn) -> tuple[str, str]:
    """An old body and a new body built mostly from its paragraphs, some lightly edited."""
    old = draw(st.lists(paragraph, max_size=8))
    new: list[str] = []
    for text in old:
        action = draw(st.sampled_from(["keep", "keep", "edit", "drop", "add"]))
        if action == "edit" and text:
            at = draw(st.integers(0, len(text) - 1))
            text = text[:at] + draw(paragraph) + text[at + 1 :]
        if action == "add":
            new.append(draw(paragraph))
        if action != "drop":
            new.append(text)
    return "\n".join(old), "\n".join(new)


pairs = st.one_of(st.tuples(body, body), edited_pair())
fast = settings(max_examples=200, deadline=None)


@fast
@given(pairs)
def test_apply_rebuilds_the_new_body(pair: tuple[str, str]) -> None:
    old, new = pair
    d = diff_bodies(old, new)
    assert apply(old, d) == new
    assert d.changed == (old != new)


@fast
@given(pairs, st.integers(0, 3))
def test_unified_matches_difflib(pair: tuple[str, str], context: int) -> None:
    old, new = pair
    expected = difflib.unified_diff(
        old.split("\n") if old else [],
        new.split("\n") if new else [],
        "a",
        "b",
        n=context,
        lineterm="",
    )
    assert to_unified(diff_bodies(old, new), context=context) == "".join(
        line + "\n" for line in expected
    )


@fast
@given(pairs)
def test_counts_html_and_json_agree_with_the_texts(pair: tuple[str, str]) -> None:
    old, new = pair
    d = diff_bodies(old, new)
    assert chars(d, "insert") - chars(d, "delete") == len(new.replace("\n", "")) - len(
        old.replace("\n", "")
    )
    page = to_html(d)
    assert page.count("<p ") == len(d.paragraphs)
    stripped = re.sub(r'<p class="(eq|ins|del|chg)">|</p>|</?(ins|del)>', "", page)
    assert "<" not in stripped and ">" not in stripped and '"' not in stripped
    assert json.loads(json.dumps(to_json(d))) == to_json(d)


@fast
@given(body)
def test_identical_bodies_have_no_changes(text: str) -> None:
    d = diff_bodies(text, text)
    assert not d.changed
    assert to_unified(d) == ""
    assert body_lines(to_unified(d, context=0)) == []
    assert all(p.op == "equal" for p in d.paragraphs)
