"""The 信息公开 metadata: label variants → canonical keys, read from lines and pipe rows.

Labels are compared with every whitespace (incl. U+3000) and the trailing colon
removed, so 索 引 号：, 文　　号 and 索引号 are one label. Pages show metadata as
tables (which the HTML walker turns into "cell | cell" rows), as "label：value"
header lines with several pairs on one line, or in <meta> tags.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from itertools import accumulate

from govwatch.parsers.text import compact, find_date, squash

# label → canonical key (None: a known label whose value we do not keep, but which
# still ends the value of the label before it).
LABELS: dict[str, str | None] = {
    "索引号": "index_no",
    "信息索引": "index_no",
    "索引": "index_no",
    "索取号": "index_no",
    "主题分类": "category",
    "分类": "category",
    "公开分类": "category",
    "信息分类": "category",
    "主题类别": "category",
    "所属分类": "category",
    "发布机构": "publisher",
    "发布单位": "publisher",
    "发文机构": "publisher",
    "发文单位": "publisher",
    "发文机关": "publisher",
    "发布机关": "publisher",
    "成文日期": "written_date",
    "生成日期": "written_date",
    "成文时间": "written_date",
    "发文日期": "issued_date",
    "发文时间": "issued_date",
    "印发日期": "issued_date",
    "发布日期": "published_date",
    "发布时间": "published_date",
    "更新时间": "published_date",
    "公开日期": "published_date",
    "公开时间": "published_date",
    "时间": "published_date",
    "日期": "published_date",
    "文号": "doc_no",
    "文件编号": "doc_no",
    "发文字号": "doc_no",
    "发文文号": "doc_no",
    "有效性": "validity",
    "时效": "validity",
    "时效性": "validity",
    "效力状态": "validity",
    "来源": "source",
    "信息来源": "source",
    "文章来源": "source",
    "稿件来源": "source",
    "标题": "title",
    "名称": None,
    "文件名称": None,
    "主题词": None,
    "关键词": None,
    "公开方式": None,
    "公开范围": None,
    "公开时限": None,
    "体裁分类": None,
    "组配分类": None,
    "服务对象分类": None,
    "作者": None,
    "字号": None,
    "浏览次数": None,
    "点击": None,
    "点击率": None,
    "点击量": None,
    "访问次数": None,
    "阅读次数": None,
    "点击数": None,
    "访问量": None,
    "浏览量": None,
    "责任编辑": None,
    "编辑": None,
    "发布人": None,
    "统一编号": None,
    "所属主题": None,
    "废止日期": None,
    "实施日期": None,
    "信息名称": None,
}
# Labels that are ordinary words too: they make a line metadata only in a header
# zone or beside a strong label, never a body table on their own.
WEAK = {"时间", "日期", "来源", "名称", "标题", "编辑", "作者", "字号", "索引", "分类", "点击"}
DATE_KEYS = {"written_date", "issued_date", "published_date"}


def _label_pattern(label: str) -> str:
    return r"[ \u3000\u00a0]*".join(re.escape(ch) for ch in label)


_ALT = "|".join(_label_pattern(lb) for lb in sorted(LABELS, key=len, reverse=True))
_ANY_LABEL = re.compile(_ALT)
# A label at a pair boundary, then a colon (or, without colon, at least one space).
_PAIR = re.compile(
    rf"(?:^|(?<=[\s|｜【\[（(]))(?:{_ALT})(?:[ \u3000\u00a0]*[:：]|[ \u3000\u00a0]+(?=\S))"
)
_LEAD = re.compile(r"^[\s•·●▪■◆◇○*\-【】\[\]（()）]*")
_COLON = re.compile(r"[ \u3000\u00a0]*[:：][ \u3000\u00a0]*$")
_WORDY = re.compile(r"[0-9A-Za-z\u3400-\u9fff]")
_TRIM = " \u3000\u00a0|｜,，;；:：【】[]()（）〗〖"


def label_key(cell: str) -> tuple[str, str | None] | None:
    """(label, key) when the whole cell is a label (colon optional), else None."""
    label = compact(_COLON.sub("", cell))
    if label in LABELS:
        return label, LABELS[label]
    return None


def _clean_value(key: str, value: str) -> str | None:
    value = squash(value).strip(_TRIM)
    if not _WORDY.search(value):
        return None
    if key in DATE_KEYS:
        return find_date(value)
    return value


class MetaBuilder:
    """Collects pairs; the first non-empty value of a key wins."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def add(self, key: str | None, value: str) -> None:
        if key is None or key in self.values:
            return
        cleaned = _clean_value(key, value)
        if cleaned:
            self.values[key] = cleaned

    def meta(self) -> dict[str, str]:
        return {k: v for k, v in self.values.items() if k != "title"}

    @property
    def title(self) -> str | None:
        return self.values.get("title")


def _takes_value(cell: str) -> bool:
    """Whether a cell can be the value of the label before it."""
    return label_key(cell) is None and not pairs_from_line(cell)


def _labelled(cells: list[str]) -> list[int]:
    """The indices of the cells holding a label, found by one scan of the cells joined by
    NULs (no label spans one) rather than a scan per cell."""
    joined = "\x00".join(cells)
    if joined.count("\x00") != max(0, len(cells) - 1):
        return [i for i, cell in enumerate(cells) if _ANY_LABEL.search(cell)]
    starts = list(accumulate(len(cell) + 1 for cell in cells))  # where cell i + 1 starts
    found: list[int] = []
    for m in _ANY_LABEL.finditer(joined):
        i = bisect_right(starts, m.start())
        if not found or found[-1] != i:
            found.append(i)
    return found


def pairs_in_cells(cells: list[str]) -> list[tuple[str, str | None, str]]:
    """Label/value pairs in a run of cells: a label cell takes the next cell as its
    value unless that is a label too; a cell may also hold "label：value" itself, or
    end with a label whose value is the next cell (【信息来源：</span><span>…).
    Cells of a colon alone (label | ： | value tables) are not cells of their own."""
    cells = [c for c in cells if c.strip(" :：")]
    found: list[tuple[str, str | None, str]] = []
    labelled = _labelled(cells)
    at = i = 0
    while True:
        while at < len(labelled) and labelled[at] < i:
            at += 1
        if at == len(labelled):
            break
        i = labelled[at]
        hit = label_key(cells[i])
        nxt = cells[i + 1] if i + 1 < len(cells) else None
        if hit:
            if nxt is not None and _takes_value(nxt):
                found.append((hit[0], hit[1], nxt))
                i += 2
            else:
                found.append((hit[0], hit[1], ""))
                i += 1
            continue
        inline = pairs_from_line(cells[i])
        i += 1
        if inline:
            label, key, value = inline[-1]
            if not value.strip(_TRIM) and nxt is not None and _takes_value(nxt):
                inline[-1] = (label, key, nxt)
                i += 1
            found.extend(inline)
    return found


def pairs_from_cells(cells: list[str]) -> list[tuple[str, str | None, str]] | None:
    """Read a table row as label/value cells. None unless a strong label is among them."""
    found = pairs_in_cells(cells)
    if not any(label not in WEAK for label, _, _ in found):
        return None
    return found


def pairs_from_line(line: str) -> list[tuple[str, str | None, str]] | None:
    """Read "label：value label：value" pairs from a line that starts with a label.
    A weak label (时间, 来源, 点击 …) counts only with its colon: without one it is a word."""
    lead = _LEAD.match(line)
    start = lead.end() if lead else 0
    # The line's first pair must start it: tried there before the scan of the rest of the
    # line (most lines of a notice start with none).
    first = _PAIR.match(line, start)
    if first is None or not _counts(first):
        return None
    matches = [first, *(m for m in _PAIR.finditer(line, first.end()) if _counts(m))]
    out: list[tuple[str, str | None, str]] = []
    for n, m in enumerate(matches):
        end = matches[n + 1].start() if n + 1 < len(matches) else len(line)
        label = compact(_COLON.sub("", m.group(0)))
        out.append((label, LABELS.get(label), line[m.end() : end]))
    return out


def _counts(m: re.Match[str]) -> bool:
    """A label found counts with its colon, or when it is no weak label."""
    found = m.group(0)
    return ":" in found or "：" in found or compact(found) not in WEAK


def read_meta_line(line: str, *, header: bool) -> list[tuple[str, str | None, str]] | None:
    """Pairs when `line` is a metadata line (a pipe row or label line), else None.

    Outside a header zone, a line of weak labels only (时间：…) is notice text.
    """
    if " | " in line or line.endswith(" |") or line.startswith("| "):
        cells = [c.strip() for c in line.split("|")]
        row = pairs_from_cells(cells)
        if row is not None:
            return row
    pairs = pairs_from_line(line)
    if not pairs:
        return None
    if not header and all(label in WEAK for label, _, _ in pairs):
        return None
    return pairs


def add_pairs(builder: MetaBuilder, pairs: Iterable[tuple[str, str | None, str]]) -> None:
    for _, key, value in pairs:
        builder.add(key, value)
