"""Cleaning speed: govwatch vs trafilatura on the same pages, in one process each.

Run by hand:  python bench/clean_speed.py [--repeat N] [PATH ...]
Default corpus: ../shared/realpages, the repo's fixtures and the seed dumps.
Prints pages/s and MB/s for `govwatch clean --format jsonl` (in-process, same code
path as the CLI) and for trafilatura.extract when trafilatura is installed.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from govwatch.parsers import clean_bytes
from govwatch.parsers.decode import decode_html

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = [
    ROOT.parent / "shared" / "realpages",
    ROOT / "tests" / "fixtures",
]


def corpus(paths: list[Path]) -> list[tuple[Path, bytes]]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(f for f in p.rglob("*.html"))
        elif p.exists():
            files.append(p)
    return [(f, f.read_bytes()) for f in files]


def run_govwatch(pages: list[tuple[Path, bytes]], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        for _path, data in pages:
            json.dumps(clean_bytes(data).to_json(), ensure_ascii=False)
    return time.perf_counter() - start


def run_trafilatura(pages: list[tuple[Path, bytes]], repeat: int) -> float | None:
    try:
        import trafilatura
    except ImportError:
        return None
    texts = [decode_html(data).text for _, data in pages]
    start = time.perf_counter()
    for _ in range(repeat):
        for text in texts:
            trafilatura.extract(text, output_format="json", with_metadata=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    pages = corpus(args.paths or DEFAULT)
    if not pages:
        raise SystemExit("no pages found")
    mb = sum(len(d) for _, d in pages) * args.repeat / 2**20
    n = len(pages) * args.repeat
    print(f"corpus: {len(pages)} pages, {mb / args.repeat:.2f} MB, repeated {args.repeat}x")
    gw = run_govwatch(pages, args.repeat)
    print(f"govwatch     {n / gw:8.1f} pages/s  {mb / gw:7.2f} MB/s  ({gw:.2f} s)")
    tr = run_trafilatura(pages, args.repeat)
    if tr is None:
        print("trafilatura  not installed (pip install '.[bench]')")
        return
    print(f"trafilatura  {n / tr:8.1f} pages/s  {mb / tr:7.2f} MB/s  ({tr:.2f} s)")
    print(f"speed-up     {tr / gw:8.1f}x")


if __name__ == "__main__":
    main()
