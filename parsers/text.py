"""Line-level text rules shared by every parser: whitespace, chrome lines, dates.

Chrome is recognised on whole lines (a toolbar, a QR caption, a footer line) and,
for QR and share captions, also when glued to the end of the notice's last line.
A line is only dropped when all of it is chrome, so notice text that merely
mentions 打印 or 分享 is kept.
"""

from __future__ import annotations

import re

# Control, zero-width and bidi-override characters must never reach a terminal or a
# feed: they become spaces. (str.split() already treats \s, NBSP and U+3000 as space.)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060\ufeff]")
_CJK = r"\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
# A line break between two CJK characters is an artefact of the HTML source, not a space.
_CJK_BREAK = re.compile(rf"(?<=[{_CJK}])[ \t]*[\r\n]+[ \t\r\n]*(?=[{_CJK}])")


def _without_breaks(text: str) -> str:
    """`text` less its line breaks between CJK characters, and less the whitespace at its
    ends, where no break lies between two characters: the pattern runs only where one
    may (text nodes of indented HTML begin and end with line breaks)."""
    text = text.strip(" \t\r\n")
    if "\n" in text or "\r" in text:
        text = _CJK_BREAK.sub("", text)
    return text


def squash(text: str) -> str:
    """Collapse whitespace (and control characters) to one space and trim."""
    text = _without_breaks(text)
    if _CONTROL.search(text):
        text = _CONTROL.sub(" ", text)
    return " ".join(text.split())


# The same control characters less NUL, which callers use to separate parts of a text.
_CONTROL_BUT_NUL = re.compile(r"[\x01-\x08\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060\ufeff]")


def squash_parts(text: str) -> list[str]:
    """`squash` of each part of `text` between NUL separators that is not blank: one scan
    of the whole text for control characters rather than one per part."""
    parts = [part for part in text.split("\x00") if part and not part.isspace()]
    if _CONTROL_BUT_NUL.search(text):
        return [squash(part) for part in parts]
    return [" ".join(_without_breaks(part).split()) for part in parts]


def compact(text: str) -> str:
    """Text with every whitespace removed: how labels and short chrome are compared."""
    return "".join(text.split())


# --- chrome ---------------------------------------------------------------

_QR = (
    r"(?:请?(?:用|使用)?(?:微信)?扫一扫[，,]?\s*(?:在|用)?手机(?:上)?(?:打开|查看|浏览|阅读)"
    r"(?:当前|本)?(?:页面?|网页|文章)?"
    r"|微信扫(?:一扫|码)(?:领取福利|分享(?:到朋友圈)?|关注)?"
    r"|手机扫(?:一扫|码)(?:阅读|查看|打开)?(?:当前|本)?(?:页面|文章)?"
    r"|扫码(?:分享|阅读|查看)(?:到手机|本页|当前页)?)"
)
_QR_TAIL = re.compile(rf"\s*(?:{_QR}\s*)+$")
_QR_LINE = re.compile(rf"^(?:{_QR}\s*)+$")

# Tokens that make up toolbars: a line made only of these (and separators) is chrome.
_TOOL_TOKENS = set(
    "打印 打印本页 打印此页 打印文章 打印正文 打印页面 关闭 关闭窗口 "
    "关闭本页 关闭当前页 关闭当前页面 关闭此页 关闭页面 返回 返回顶部 "
    "返回首页 顶部 收藏 加入收藏 收藏本页 我要投稿 投稿 点赞 赞 分享 "
    "分享到 分享至 转发 字号 字体 字号大小 文字 大 中 小 默认 标准 放大 "
    "缩小 放大字体 缩小字体 大字 中字 小字 时间 纠错 我要纠错 保存 "
    "保存本页 微信 微博 新浪微博 腾讯微博 QQ空间 qq空间 人人网 朋友圈 "
    "QQ qq 更多 视力保护色 护眼 繁体 简体 无障碍 浏览次数 阅读次数 "
    "浏览量 阅读量 访问量 点击数 点击量 次 文章正文 相关附件 附件下载 "
    "领取福利 好文档 免费下载 下载 在线阅读 评论 举报 二维码 扫一扫 手机版 "
    ") ".split()
)
_TOOL_SPLIT = re.compile(r"[\s|｜丨•·●▪■◆◇○\-—_/、,，:：;；()（）\[\]【】〖〗「」『』<>《》\"“”]+")
_COUNTER = re.compile(
    r"^(?:浏览次数|阅读次数|浏览量|阅读量|访问量|访问次数|点击数|点击量|点击次数|点击率|浏览)"
    r"\s*[:：]?\s*\d*\s*次?$"
)
_STARTS_FURNITURE = re.compile(
    r"^[【\[［(（]?\s*(?:上一篇|下一篇|上一条|下一条|上篇|下篇|上一页|下一页"
    r"|当前位置|您当前的位置|您现在的位置|您的位置|当前的位置|所在位置|现在位置)"
)
_FOOTER = re.compile(
    r"版权所有|网站标识码|ICP备|ICP证|公网安备|网站地图|技术支持\s*[:：]|主办单位\s*[:：]|承办单位\s*[:：]"
    r"|主办\s*[:：]|承办\s*[:：]|建议使用.{0,20}浏览器|分辨率|Copyright|copyright|©"
)
_DIGITS_ONLY = re.compile(r"^\d{3,}$")
_CONTENT_FARM = re.compile(r"^(?:好文档\s*[-—–].*|.*专业文书写作范文.*|.*范文服务资料分享网站.*)$")


def strip_qr_tail(line: str) -> str:
    """Remove a QR/share caption glued to the end of a line."""
    if "扫" not in line and "码" not in line:
        return line
    return _QR_TAIL.sub("", line).rstrip()


_PAGER_TOKENS = set("首页 上一页 下一页 尾页 末页 上页 下页".split())


def is_toolbar(line: str) -> bool:
    tokens = [t for t in _TOOL_SPLIT.split(line) if t]
    if not tokens:
        return True  # separators only: "|", "•", "【】"
    if any(t in _PAGER_TOKENS for t in tokens):  # a pager: "1 2 下一页"
        return all(t in _PAGER_TOKENS or t.isdigit() or t in _TOOL_TOKENS for t in tokens)
    return all(t in _TOOL_TOKENS or _COUNTER.match(t) for t in tokens)


def is_chrome(line: str) -> bool:
    """True when the whole line is page furniture rather than notice text."""
    text = squash(line)
    if not text:
        return True
    if _QR_LINE.match(text) or _COUNTER.match(compact(text)) or _DIGITS_ONLY.match(text):
        return True
    if _STARTS_FURNITURE.match(text) or _CONTENT_FARM.match(text):
        return True
    if len(text) <= 160 and _FOOTER.search(text):
        return True
    return len(text) <= 80 and is_toolbar(text)


# --- dates ----------------------------------------------------------------

# A year not preceded by a digit. The look-behind follows the century rather than leading
# the pattern (the same test: the character before the year), so that the regex engine
# skips ahead to the next 1 or 2 instead of trying every position of a long text.
_YEAR_START = r"(?:19|20)(?<!\d..)\d{2}"
_DATE = re.compile(
    rf"({_YEAR_START})\s*(?:[-/.年])\s*(\d{{1,2}})\s*(?:[-/.月])\s*(\d{{1,2}})(?!\d)\s*日?"
)
_DATE_COMPACT = re.compile(rf"({_YEAR_START})(\d{{2}})(\d{{2}})(?!\d)")


def find_date(text: str) -> str | None:
    """The first date in `text` as YYYY-MM-DD, or None."""
    for pattern in (_DATE, _DATE_COMPACT):
        for m in pattern.finditer(text):
            year, month, day = (int(g) for g in m.groups())
            if 1 <= month <= 12 and 1 <= day <= 31:
                return f"{year:04d}-{month:02d}-{day:02d}"
    return None


def date_count(text: str, enough: int | None = None) -> int:
    """How many dates `text` shows; counting stops at `enough`."""
    if enough is None:
        return len(_DATE.findall(text))
    count = 0
    for _ in _DATE.finditer(text):
        count += 1
        if count >= enough:
            break
    return count


def without_dates(text: str) -> str:
    """`text` less its dates: what a list row says besides its link."""
    return _DATE.sub("", text)


def has_date(text: str) -> bool:
    return bool(_DATE.search(text) or _DATE_COMPACT.search(text))


def has_compact_date(text: str) -> bool:
    """A date written without separators (20261120)."""
    return bool(_DATE_COMPACT.search(text))


# A list row's date printed without its year (11-20, 06/02, 6月2日): zero-padded when
# written with a separator, so that 1.5 or 3-4 in a cell is no date.
_MONTH_DAY = re.compile(r"(\d{2})\s*[-/.]\s*(\d{2})|(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_MONTH_DAY_WHOLE = re.compile(rf"^[\[【(（]?\s*(?:{_MONTH_DAY.pattern})\s*[\]】)）]?$")
# The same, not glued to other digits or separators; the look-behind follows the first
# digit (the same test) so that the regex engine skips ahead from digit to digit.
_MONTH_DAY_NEAR = re.compile(
    r"\d(?<![\d\-/.]\d)(?:\d\s*[-/.]\s*\d{2}|\d?\s*月\s*\d{1,2}\s*日)(?![\d\-/.])"
)


_YEAR_MONTH = re.compile(r"^((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*月?$")
_YEAR_MONTH_NEAR = re.compile(r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}")
_YEAR = re.compile(r"^((?:19|20)\d{2})\s*年?$")
_DAY = re.compile(r"^(\d{1,2})\s*日?$")


def month_day(text: str) -> tuple[int, int] | None:
    """(month, day) when the whole of `text` is a year-less date, maybe in brackets."""
    m = _MONTH_DAY_WHOLE.match(text.strip())
    if m is None:
        return None
    month, day = (int(g) for g in m.groups() if g is not None)
    return (month, day) if 1 <= month <= 12 and 1 <= day <= 31 else None


def may_hold_partial_date(text: str) -> bool:
    """A cheap test before looking for a date in a row's pieces: a year-less date, or a
    year and month printed apart from the day."""
    return bool(_MONTH_DAY_NEAR.search(text) or _YEAR_MONTH_NEAR.search(text))


def date_from_pieces(pieces: list[str]) -> str | None:
    """A date a date box prints in two pieces: 2025-12 and 18, or 2025 and 12-18."""
    year_month = day = year = md = None
    for piece in pieces:
        text = piece.strip()
        if (m := _YEAR_MONTH.match(text)) is not None:
            year_month = year_month or (int(m.group(1)), int(m.group(2)))
        elif (m := _YEAR.match(text)) is not None:
            year = year or int(m.group(1))
        elif (m := _DAY.match(text)) is not None:
            day = day or int(m.group(1))
        elif (found := month_day(text)) is not None:
            md = md or found
    if year_month and day:
        return find_date(f"{year_month[0]}-{year_month[1]}-{day}")
    if year and md:
        return find_date(f"{year}-{md[0]}-{md[1]}")
    return None


# The storage path of a notice: /art/2026/6/3/…, /202606/t20260603_…, /2026/11-26/….
_URL_DATE = re.compile(
    r"(?<![0-9])((?:19|20)\d{2})(?:[-_/]?(0[1-9]|1[0-2]|[1-9](?=/))"
    r"(?:[-_/]?(0[1-9]|[12]\d|3[01]|[1-9](?=/)))?)?(?=[/_.-]|$)"
)


def with_year(month: int, day: int, url_path: str) -> str | None:
    """A year-less date completed with the year in the notice's URL path; across a year
    end when the URL's month says so (printed 12-31, stored under /2027/1/2/)."""
    m = _URL_DATE.search(url_path)
    if m is None:
        return None
    year = int(m.group(1))
    stored_month = int(m.group(2) or 0)
    if month == 12 and stored_month == 1:
        year -= 1
    elif month == 1 and stored_month == 12:
        year += 1
    return f"{year:04d}-{month:02d}-{day:02d}"


# A date a list writes into the link text: 关于……的通知[2025-12-18], ……（2025-11-03）.
_FULL_DATE = r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
_DATE_AT_END = re.compile(
    rf"\s*(?:[\[【(（]\s*({_FULL_DATE})\s*[\]】)）]|(?<![\d\w])((?:19|20)\d{{2}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}))$"
)
_DATE_AT_START = re.compile(
    rf"^(?:[\[【(（]\s*({_FULL_DATE})\s*[\]】)）]|((?:19|20)\d{{2}}[-/.]\d{{1,2}}[-/.]\d{{1,2}})(?![\d]))\s*"
)
# Badges a list puts on a row: pinned, new, hot. Bracketed anywhere at either end; bare
# only 置顶, which begins no title.
_BADGE_WORDS = r"置顶|顶|new|hot|新|热|荐|推荐|最新|热门|头条"
_BADGE_AT_START = re.compile(rf"^\s*(?:[\[【(（]\s*(?:{_BADGE_WORDS})\s*[\]】)）]|置顶)\s*", re.I)
_BADGE_AT_END = re.compile(rf"\s*[\[【(（]\s*(?:{_BADGE_WORDS})\s*[\]】)）]\s*$", re.I)
_BADGE = re.compile(rf"^[\[【(（]?\s*(?:{_BADGE_WORDS})\s*[\]】)）]?$", re.I)


_MONTH_DAY_AT_END = re.compile(r"\s*[\[【(（]\s*(\d{2}[-/.]\d{2})\s*[\]】)）]\s*$")
_MAY_HAVE_AFFIX = re.compile(r"[\[【(（\]】)）\d]")


def is_badge(text: str) -> bool:
    """A piece of a row that only marks it: 置顶, [new], 热 …"""
    return bool(_BADGE.match(text.strip()))


def split_title(text: str) -> tuple[str, str | None, tuple[int, int] | None]:
    """A link text without the badges and the date written at its ends, and that date
    (or a year-less one in brackets at its end, [12-18]). Other brackets stay: （第3号）,
    （试行）, （9月20日—10月10日）."""
    if not text or not (_MAY_HAVE_AFFIX.search(text[:1] + text[-1:]) or "置顶" in text):
        return text, None, None
    short: tuple[int, int] | None = None
    m = _MONTH_DAY_AT_END.search(text)
    if m is not None and m.start() >= 4:
        short = month_day(m.group(1))
        if short is not None:
            text = text[: m.start()]
    date: str | None = None
    for _ in range(3):  # a badge, a date and a badge, in any order
        before = text
        text = _BADGE_AT_START.sub("", _BADGE_AT_END.sub("", text))
        for pattern in (_DATE_AT_END, _DATE_AT_START):
            m = pattern.search(text)
            if m is not None and len(text) - len(m.group(0)) >= 4:
                found = find_date(m.group(1) or m.group(2))
                if found is not None:
                    date = date or found
                    text = text[: m.start()] + text[m.end() :]
        if text == before:
            break
    return text.strip(), date, short
