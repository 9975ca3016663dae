"""Cleaning speed: `govwatch clean --format jsonl` against the Lexbor floor and trafilatura.

Run by hand:  python bench/clean_speed.py [--repeat N] [--best N] [--profile] [--memory]
              [--seconds S] [--clock cpu|wall|instructions] [PATH ...]
Default corpora: ../shared/realpages (real government pages) and tests/fixtures, each
measured on its own. Three programs clean the same files, each in a process of its own,
timed from outside: `govwatch clean --format jsonl`; the floor, selectolax (Lexbor)
parsing each page and taking its body text; and trafilatura.extract in its JSON mode with
metadata (when installed: pip install '.[bench]'). Throughput is marginal: the corpus is
given once and N times, and pages/s is the extra pages over the extra time, so
interpreter start-up and imports are subtracted. N is at least `--repeat`, and enough for
the extra pages to take about `--seconds` for each program, the fastest included. Time is
each process's CPU time (user + system; `--clock wall` for wall time), which a load from
other processes on the machine disturbs far less than wall time. Each figure is the best
of `--best` runs, the programs taking turns; the spread of the runs (slowest over fastest)
says how noisy it was. `--clock instructions` counts instructions per page instead, under
valgrind's cachegrind (govwatch and the floor, `--repeat` copies): exact and repeatable,
where CPU time on a shared machine can wander by half between runs.

--profile: where govwatch's CPU time goes, in this process, per page kind: each stage's own
time (decode, parse, prune, score, title, metadata, listing search, text walk, JSON).
--memory: peak RSS of `govwatch clean` for one 5 MB page, and for batches of 1,000 and
10,000 pages in one process (flat: no growth per page).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOVWATCH = str(Path(sys.executable).with_name("govwatch"))
DEFAULT = {
    "real pages": ROOT.parent / "shared" / "realpages",
    "fixtures": ROOT / "tests" / "fixtures",
}


def corpus(path: Path) -> list[Path]:
    return sorted(path.rglob("*.html")) if path.is_dir() else [path]


# --- the programs timed: each is one process over a list of files ---------------


def _floor(files: list[str]) -> None:
    from selectolax.lexbor import LexborHTMLParser

    for name in files:
        tree = LexborHTMLParser(Path(name).read_bytes())
        body = tree.body
        if body is not None:
            body.text()


def _trafilatura(files: list[str]) -> None:
    import trafilatura

    out = sys.stdout
    for name in files:
        # The file's bytes, as govwatch gets them: decoding is part of the job.
        data = Path(name).read_bytes()
        result = trafilatura.extract(data, output_format="json", with_metadata=True)
        out.write((result or "null") + "\n")


WORKERS: dict[str, Callable[[list[str]], None]] = {"floor": _floor, "trafilatura": _trafilatura}


def _command(program: str, files: list[str]) -> list[str]:
    if program in WORKERS:
        return [sys.executable, __file__, "--worker", program, *files]
    return [program, "clean", "--format", "jsonl", *files]


def _run(program: str, files: list[str]) -> tuple[float, float, int]:
    """Wall time, CPU time (user + system) and peak RSS (KiB) of one process cleaning
    `files`."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        _command(program, files), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    _check(program, os.waitstatus_to_exitcode(status))
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def _check(program: str, status: int) -> None:
    if status not in (0, 1):  # 1: some input could not be read, said per input
        raise SystemExit(f"{program} failed with status {status}")


_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def _instructions(program: str, files: list[str]) -> int:
    """The instructions one process cleaning `files` executes, counted by cachegrind: the
    same count for the same work however busy the machine is (string hashing, which moves
    it, is seeded)."""
    command = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        *_command(program, files),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    except FileNotFoundError:
        raise SystemExit("--clock instructions needs valgrind (apt install valgrind)") from None
    _check(program, done.returncode)
    found = _REFS.search(done.stderr)
    if found is None:
        raise SystemExit(f"cachegrind gave no count for {program}: {done.stderr[-500:]}")
    return int(found.group(1).replace(",", ""))


def marginal(
    programs: list[str], files: list[str], repeat: int, best: int, clock: int, seconds: float
) -> dict[str, tuple[float, float, int]]:
    """Each program's pages/s over the extra pages of a many-fold corpus, the spread of its
    runs (slowest / fastest) and the copies it took, by wall (`clock` 0) or CPU time (1).
    Copies are at least `repeat`, and as many as make the extra pages take about `seconds`
    (from a first run at `repeat`): the floor does in 50 ms what govwatch does in a second,
    and a figure timed over 50 ms is mostly the noise of process start-up. The programs take
    turns, round after round, so that a load coming and going on a shared machine falls on
    all of them alike."""
    copies = {}
    for program in programs:
        first, longer = _run(program, files)[clock], _run(program, files * repeat)[clock]
        rate = len(files) * (repeat - 1) / max(longer - first, 1e-3)
        copies[program] = max(repeat, 1 + math.ceil(seconds * rate / len(files)))
    times: dict[tuple[str, int], list[float]] = {}
    for _ in range(best):
        for program in programs:
            for n in (1, copies[program]):
                run = _run(program, files * n)
                times.setdefault((program, n), []).append(run[clock])
    out = {}
    for program in programs:
        n = copies[program]
        once, many = times[(program, 1)], times[(program, n)]
        spread = max(max(t) / min(t) for t in (once, many))
        out[program] = (len(files) * (n - 1) / (min(many) - min(once)), spread, n)
    return out


def instructions(name: str, files: list[Path], copies: int, govwatch: list[str]) -> None:
    """Instructions per page of each govwatch executable given and of the floor, over the
    extra pages of `copies` corpora (start-up subtracted): a figure that repeats exactly,
    where CPU time on a shared machine wanders."""
    names = [str(f) for f in files]
    print(f"\n{name}: {len(files)} pages; ×1 and ×{copies}, instructions (cachegrind)")
    several = len(govwatch) > 1
    labels = {g: f"govwatch{i if several else ''}" for i, g in enumerate(govwatch)}
    per_page = {}
    for program in [*govwatch, "floor"]:
        once = _instructions(program, names)
        many = _instructions(program, names * copies)
        per_page[program] = (many - once) / (len(names) * (copies - 1))
        figure = per_page[program] / 1e6
        print(f"  {labels.get(program, program):12} {figure:8.2f} M instructions/page")
    for program in govwatch:
        share = 100 * per_page["floor"] / per_page[program]
        print(f"  {labels[program]} ({program}): {share:.1f}% of the floor")


def _load() -> str:
    """The machine's load average: how busy it was while the figures were taken."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def speed(
    name: str,
    files: list[Path],
    repeat: int,
    best: int,
    govwatch: list[str],
    clock: str,
    seconds: float,
) -> None:
    """Throughput of each govwatch executable given, the floor and trafilatura."""
    names = [str(f) for f in files]
    mb = sum(f.stat().st_size for f in files) / 2**20
    print(
        f"\n{name}: {len(files)} pages, {mb:.2f} MB; ×1 and ×N (≥ {repeat}, ~{seconds:g} s more),"
        f" best of {best}, {clock} time ({_load()})"
    )
    programs = [*govwatch, "floor"]
    try:
        import trafilatura  # noqa: F401
    except ImportError:
        print("  trafilatura not installed (pip install '.[bench]')")
    else:
        programs.append("trafilatura")
    several = len(govwatch) > 1
    labels = {g: f"govwatch{i if several else ''}" for i, g in enumerate(govwatch)}
    rates: dict[str, float] = {}
    which = 0 if clock == "wall" else 1
    found = marginal(programs, names, repeat, best, which, seconds)
    for program, (rate, spread, copies) in found.items():
        rates[program] = rate
        print(
            f"  {labels.get(program, program):12} {rate:8.1f} pages/s"
            f"  {rate * mb / len(files):6.2f} MB/s"
            f"  (×{copies}, runs within {100 * (spread - 1):.0f}%)"
        )
    print(f"  ({_load()} after the runs)")
    for program in govwatch:
        share = 100 * rates[program] / rates["floor"]
        print(f"  {labels[program]} ({program}): {share:.0f}% of the floor", end="")
        if "trafilatura" in rates:
            print(f", {rates[program] / rates['trafilatura']:.1f}× trafilatura", end="")
        print()


# --- where the time goes -----------------------------------------------------------


class _Stages:
    """Own time per stage: a timed call's time less that of timed calls inside it."""

    def __init__(self) -> None:
        self.own: dict[str, float] = {}
        self.stack: list[float] = []  # time spent in timed children, per open call

    def wrap(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.stack.append(0.0)
            start = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.process_time() - start
                inner = self.stack.pop()
                self.own[stage] = self.own.get(stage, 0.0) + elapsed - inner
                if self.stack:
                    self.stack[-1] += elapsed

        return timed


# (stage, module, names): the functions whose own time makes each stage (names a release
# lacks are skipped, so that an older release's profile can be taken too).
STAGES = (
    ("decode", "govwatch.parsers.clean", ("decode_html",)),
    ("parse", "govwatch.parsers.html", ("LexborHTMLParser",)),
    ("prune", "govwatch.parsers.generic", ("parse_html", "mark_content")),
    ("score", "govwatch.parsers.generic", ("find_content", "tighten")),
    ("score", "govwatch.parsers.generic", ("Measures.text_len",)),
    ("title", "govwatch.parsers.detail", ("find_title",)),
    ("metadata", "govwatch.parsers.detail", ("_text_around", "pairs_in_cells")),
    ("metadata", "govwatch.parsers.html", ("Metas.get",)),
    ("metadata", "govwatch.parsers.detail", ("squash_parts",)),
    ("metadata", "govwatch.parsers.detail", ("clean_body", "attachments_in")),
    ("listing search", "govwatch.parsers.listing", ("ListingSearch.find",)),
    ("listing search", "govwatch.parsers.generic", ("has_pager", "find_listing")),
    ("listing search", "govwatch.parsers.generic", ("next_page_links", "links_base")),
    ("listing search", "govwatch.parsers.generic", ("is_listing", "quiet", "column_page")),
    ("listing search", "govwatch.parsers.generic", ("covers", "rows_of_text")),
    ("text walk", "govwatch.parsers.content", ("walk_lines",)),
)
ORDER = (
    "decode",
    "parse",
    "prune",
    "score",
    "title",
    "metadata",
    "listing search",
    "text walk",
    "JSON",
    "other",
)


def profile(corpora: dict[str, list[Path]], repeat: int) -> None:
    import importlib

    from govwatch.parsers import clean_bytes

    stages = _Stages()
    for stage, module_name, names in STAGES:
        module = importlib.import_module(module_name)
        for name in names:
            owner: Any = module
            *classes, attr = name.split(".")
            for cls in classes:
                owner = getattr(owner, cls, None)
            if owner is not None and hasattr(owner, attr):
                setattr(owner, attr, stages.wrap(stage, getattr(owner, attr)))
    clean = stages.wrap("other", clean_bytes)
    to_json = stages.wrap("JSON", lambda page: json.dumps(page.to_json(), ensure_ascii=False))
    by_kind: dict[str, dict[str, float]] = {}
    pages: dict[str, int] = {}
    for name, files in corpora.items():
        for path in files:
            data = path.read_bytes()
            for _ in range(repeat):
                stages.own.clear()
                page = clean(data)
                to_json(page)
                kind = f"{name}: {page.kind}"
                row = by_kind.setdefault(kind, {})
                for stage, spent in stages.own.items():
                    row[stage] = row.get(stage, 0.0) + spent
                pages[kind] = pages.get(kind, 0) + 1
    print(f"\nprofile: own time per stage, ms per page (in process, ×{repeat}; {_load()})")
    print(f"  {'':28}" + "".join(f"{s[:9]:>10}" for s in ORDER) + f"{'total':>10}")
    for kind, row in sorted(by_kind.items()):
        n = pages[kind]
        cells = "".join(f"{1000 * row.get(s, 0.0) / n:10.3f}" for s in ORDER)
        total = 1000 * sum(row.values()) / n
        print(f"  {f'{kind} ({n})':28}{cells}{total:10.3f}")
    totals = {s: sum(r.get(s, 0.0) for r in by_kind.values()) for s in ORDER}
    whole = sum(totals.values())
    print(f"  {'share of all':28}" + "".join(f"{100 * totals[s] / whole:9.1f}%" for s in ORDER))


# --- memory --------------------------------------------------------------------------


def _big_page(page: Path, size: int) -> bytes:
    """A notice page whose body is repeated to `size` bytes (UTF-8)."""
    from govwatch.parsers.decode import decode_html

    text = decode_html(page.read_bytes()).text
    start = text.find("<body")
    end = text.rfind("</body>")
    body = text[text.find(">", start) + 1 : end] if start >= 0 and end > start else text
    copies = max(1, size // max(1, len(body.encode())))
    return f"<html><head><meta charset='utf-8'></head><body>{body * copies}</body></html>".encode()


def memory(files: list[Path], govwatch: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.html"
        biggest = max(files, key=lambda f: f.stat().st_size)
        big.write_bytes(_big_page(biggest, 5 * 2**20))
        small = [str(f) for f in files]
        print(f"\npeak RSS of one `{govwatch} clean --format jsonl` process ({_load()}):")
        for label, batch in (
            ("1 page", small[:1]),
            (f"{big.stat().st_size / 2**20:.1f} MB page", [str(big)]),
            ("1,000 pages", (small * (1000 // len(small) + 1))[:1000]),
            ("10,000 pages", (small * (10000 // len(small) + 1))[:10000]),
        ):
            elapsed, _, rss = _run(govwatch, batch)
            print(f"  {label:14} {rss / 1024:7.1f} MiB  ({elapsed:.1f} s)")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        WORKERS[sys.argv[2]](sys.argv[3:])
        return
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("paths", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=10, help="corpus copies of the long run")
    ap.add_argument("--best", type=int, default=3, help="runs per figure, the fastest kept")
    ap.add_argument(
        "--seconds", type=float, default=2.0, help="about how long the extra pages take to clean"
    )
    ap.add_argument("--profile", action="store_true", help="time per stage, per page kind")
    ap.add_argument("--memory", action="store_true", help="peak RSS: a 5 MB page, 10,000 pages")
    ap.add_argument("--no-speed", action="store_true", help="skip the throughput runs")
    ap.add_argument(
        "--clock",
        choices=("cpu", "wall", "instructions"),
        default="cpu",
        help="time the processes by their CPU time (default: steadier on a shared machine),"
        " or count their instructions under valgrind (exact; --repeat copies, no trafilatura)",
    )
    ap.add_argument(
        "--govwatch",
        action="append",
        type=Path,
        help="the govwatch executable to time (default: this venv's); repeat to compare",
    )
    args = ap.parse_args()
    sources = {str(p): p for p in args.paths} if args.paths else DEFAULT
    corpora = {name: corpus(path) for name, path in sources.items() if path.exists()}
    corpora = {name: files for name, files in corpora.items() if files}
    if not corpora:
        raise SystemExit("no pages found")
    if not args.no_speed:
        govwatch = [str(g) for g in args.govwatch or [GOVWATCH]]
        for name, files in corpora.items():
            if args.clock == "instructions":
                instructions(name, files, args.repeat, govwatch)
            else:
                speed(name, files, args.repeat, args.best, govwatch, args.clock, args.seconds)
    if args.profile:
        profile(corpora, 3)
    if args.memory:
        for executable in args.govwatch or [GOVWATCH]:
            memory([f for files in corpora.values() for f in files], str(executable))


if __name__ == "__main__":
    main()
