"""Notice text for the mirror: generated, or the seed notices of a directory one names.

By default a generator writes plausible notices from phrase lists, the same on every
run, wherever govwatch is installed. A directory of seed notices (the project's
../shared/seeds: real notices flattened to text by other tools, with their chrome,
信息公开 header lines, 字号/打印 bullets, content-farm junk, QR captions, still in) is
read only when named: `govwatch demo --seed-texts DIR`, `python -m
govwatch.demo.mirror --seed-texts DIR`, or GOVWATCH_SEED_TEXTS. The mirror wants the
notice alone, so this module reads each seed into a title and clean paragraphs with
rules of its own: it must not lean on the project's cleaner, since the mirror is the
oracle that cleaner is tested against. Seed text is never copied into the repository.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass
from pathlib import Path

from govwatch.errors import ConfigError

_WS = re.compile(r"[\s\u200b\ufeff]+")
_LABEL_LINE = re.compile(
    r"^(?:标\s*题|索\s*引\s*号|文\s*号|发文日期|发布日期|发布时间|发布机构|发布单位|字\s*号)\s*[:：]"
)
_TITLE_LABEL = re.compile(r"^标\s*题\s*[:：]\s*(.+?)(?:\s+索\s*引\s*号\s*[:：].*)?$")
_CHROME_WORDS = ("扫一扫", "扫码", "加入收藏", "我要投稿", "好文档", "范文", "领取福利")
_CHROME_LINES = {"文章正文", "打印", "|", "分享", "点赞"}
_QR_TAIL = re.compile(r"\s*扫一扫在手机上?(?:查看|打开)当前页面?$")
_DATE_ONLY = re.compile(r"^\d{4}\s*[-年./]\s*\d{1,2}\s*[-月./]\s*\d{1,2}\s*日?$")
_NOT_TITLE_END = re.compile(r"[。！？；;:：,，、]$")
_NUMBERED = re.compile(
    r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|\d+[.、．])"
)
_BANNER = re.compile(r"^.{2,18}(?:局|政府|委员会|办公室)$")


def squash(text: str) -> str:
    """Collapse whitespace (incl. U+3000, NBSP) to single spaces: how cleaners compare."""
    return _WS.sub(" ", text).strip()


@dataclass(frozen=True)
class SeedText:
    """One notice's text: its title and its paragraphs, chrome removed."""

    name: str
    title: str
    paragraphs: tuple[str, ...]


SEED_TEXTS_ENV = "GOVWATCH_SEED_TEXTS"
"""The environment variable naming a directory of seed notices, when no option does."""


def seed_texts_dir(directory: Path | None = None) -> Path | None:
    """The directory of seed notices named by `directory`, else by GOVWATCH_SEED_TEXTS;
    None when neither names one."""
    named = os.environ.get(SEED_TEXTS_ENV)
    return directory or (Path(named) if named else None)


def _is_chrome(line: str) -> bool:
    if not line or line in _CHROME_LINES or line.isdigit():
        return True
    if line.startswith(("•", "·", "|")) or "|" in line:
        return True
    if _LABEL_LINE.match(line):
        return True
    return any(word in line for word in _CHROME_WORDS)


def _title_like(line: str) -> bool:
    return (
        6 <= len(line) <= 60
        and "。" not in line
        and not _NOT_TITLE_END.search(line)
        and not _NUMBERED.match(line)
        and not _DATE_ONLY.match(line)
    )


def read_seed(name: str, text: str) -> SeedText | None:
    """A seed dump → title and paragraphs; None when no notice text is found."""
    lines = [squash(_QR_TAIL.sub("", squash(raw))) for raw in text.splitlines()]
    title = ""
    title_at = -1
    for i, line in enumerate(lines):
        m = _TITLE_LABEL.match(line)
        if m:
            title, title_at = m.group(1).strip(), i
            break
    if not title:
        for i, line in enumerate(lines):
            if not _is_chrome(line) and _title_like(line):
                title, title_at = line, i
                break
    key = title.replace(" ", "")
    paragraphs: list[str] = []
    for i, line in enumerate(lines):
        if _is_chrome(line):
            continue
        compact = line.replace(" ", "")
        if key and (compact == key or (len(compact) >= 4 and compact in key)):
            continue  # the title, or a piece of it split over two lines
        if i < title_at and not paragraphs and _BANNER.match(line):
            continue  # the site banner above the title
        paragraphs.append(line)
    if not title or len(paragraphs) < 3:
        return None
    return SeedText(name, title, tuple(paragraphs))


def load_seed_texts(directory: Path | None = None) -> list[SeedText]:
    """The seed notices (*.txt) of `directory`, else of GOVWATCH_SEED_TEXTS, sorted by file
    name; generated ones when neither names a directory. A directory named that is not
    one, or holds no readable notice, is a ConfigError: a typo must not quietly give
    other notices."""
    where = seed_texts_dir(directory)
    if where is None:
        return generated_texts()
    if not where.is_dir():
        raise ConfigError(f"seed texts: {where} is not a directory")
    texts: list[SeedText] = []
    for path in sorted(where.glob("*.txt")):
        try:
            raw = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        seed = read_seed(path.stem, raw)
        if seed is not None:
            texts.append(seed)
    if not texts:
        raise ConfigError(f"seed texts: no readable notice (*.txt) in {where}")
    return texts


# --- generated text -----------------------------------------------------------
# Phrase lists for notices when no seed is at hand. Written for this module: the
# cadence of 通知/工作要点 prose, not any real notice's wording.

_TOPICS = (
    "做好秋季学期开学工作",
    "开展校园安全隐患排查整治",
    "公布义务教育阶段招生入学政策",
    "组织中小学教师暑期培训",
    "加强学生体质健康监测",
    "推进教育信息化应用示范校建设",
    "开展防溺水专项教育",
    "做好家庭经济困难学生资助",
    "规范校外培训机构管理",
    "举办全民健身运动会",
    "开展课后服务质量评估",
    "做好普通高中学业水平考试",
    "加强学校食堂食品安全管理",
    "推进县域义务教育优质均衡发展",
    "开展中小学图书馆藏书清理",
    "公开招聘中小学教师",
)
_KINDS = ("的通知", "的公告", "工作方案", "的实施意见", "有关事项的通知")
_HEADINGS = (
    "总体要求",
    "主要任务",
    "工作措施",
    "时间安排",
    "保障措施",
    "工作要求",
)
_SUBJECTS = (
    "各学校",
    "各县（市、区）教育局",
    "局属各单位",
    "各幼儿园",
    "各级教育行政部门",
    "各有关单位",
)
_ACTIONS = (
    "要高度重视，成立工作专班，明确责任分工",
    "要结合实际制定实施方案，细化工作举措",
    "要加强统筹协调，形成工作合力",
    "要建立工作台账，实行清单化管理",
    "要严格落实主体责任，确保各项措施落地见效",
    "要加大宣传力度，营造良好氛围",
    "要强化督促检查，及时发现和解决问题",
    "要认真总结经验做法，按时报送工作进展",
)
_GOALS = (
    "切实保障广大师生生命财产安全",
    "不断提升教育教学质量",
    "进一步优化教育资源配置",
    "推动教育事业高质量发展",
    "让人民群众共享优质教育资源",
    "促进学生全面健康成长",
)


def _sentence(rng: random.Random) -> str:
    return f"{rng.choice(_SUBJECTS)}{rng.choice(_ACTIONS)}，{rng.choice(_GOALS)}。"


def generated_texts(count: int = 5, seed: int = 20240308) -> list[SeedText]:
    """`count` plausible notices, the same on every run."""
    rng = random.Random(seed)
    out = []
    numerals = "一二三四五六七八九十"
    for n in range(count):
        topic = _TOPICS[(n * 5) % len(_TOPICS)]
        title = f"关于{topic}{_KINDS[n % len(_KINDS)]}"
        paragraphs = [f"为{rng.choice(_GOALS)}，现就{topic}有关事项通知如下："]
        for h, heading in enumerate(rng.sample(_HEADINGS, 4)):
            paragraphs.append(f"{numerals[h]}、{heading}")
            for _ in range(rng.randint(2, 4)):
                paragraphs.append("".join(_sentence(rng) for _ in range(rng.randint(2, 4))))
        out.append(SeedText(f"generated_{n}", title, tuple(paragraphs)))
    return out


def generated_title(rng: random.Random, year: int) -> str:
    """A notice title in the usual 关于…的通知 shape."""
    topic = rng.choice(_TOPICS)
    kind = rng.choice(_KINDS)
    return f"关于{year}年{topic}{kind}" if kind.startswith("的") else f"{year}年{topic}{kind}"


def opening(rng: random.Random, title: str) -> list[str]:
    """Addressee and purpose lines a notice opens with."""
    return [
        f"{rng.choice(_SUBJECTS)}：",
        f"为{rng.choice(_GOALS)}，现将{title.removeprefix('关于')}有关事项通知如下：",
    ]


def closing(agency: str, date: str) -> list[str]:
    """Signature and date lines a notice ends with."""
    year, month, day = (int(p) for p in date.split("-"))
    return ["特此通知。", agency, f"{year}年{month}月{day}日"]
