"""Attachment extraction throughput per format: files/s and MB/s.

Run by hand:  python bench/attachment_speed.py [--repeat N] [--sandboxed]
Files of each format are written here as tests/attachment_files.py writes them, larger:
a 20-page PDF, a DOCX and a DOC of 40 paragraphs and a 200-row table, XLSX/XLS of 2,000
rows (and the same as WPS writes it, GBK, read by xlrd), a 20-page OFD. In-process
figures time `extract` alone (best of --repeat); --sandboxed adds the crawl's way, a
process per file under the memory cap, whose interpreter start-up dominates small files.
With the ocr extra, OCR's pages/s on a 3-page scan of 30 lines a page (in process, the
models loaded once; --sandboxed: the whole file in OCR's own process, models included).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from govwatch.crawler.sandbox import Limits, extract_isolated, ocr_installed  # noqa: E402
from govwatch.parsers.attachments import extract, read_scan  # noqa: E402
from tests import attachment_files as files  # noqa: E402

LINE = (
    "根据《事业单位公开招聘人员暂行规定》，现将我局2024年公开招聘教师岗位公布如下，请各校按时报名。"
)
ROWS = tuple((f"{n:04d}", "初中语文教师", str(n % 5 + 1), "本科及以上") for n in range(2000))


def _pdf() -> bytes:
    import io

    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    for _ in range(20):
        page.setFont("STSong-Light", 10)
        for n in range(40):
            page.drawString(40, 800 - 19 * n, LINE[: 30 + n % 10])
        page.showPage()
    page.save()
    return out.getvalue()


def _doc() -> bytes | None:
    """The DOCX saved as Word 97 by LibreOffice, when it is installed."""
    import subprocess
    import tempfile

    soffice = shutil.which("soffice")
    if soffice is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder, "notice.docx")
        source.write_bytes(_docx())
        subprocess.run(
            [soffice, "--headless", "--convert-to", "doc", "--outdir", folder, str(source)],
            capture_output=True,
            check=True,
        )
        return Path(folder, "notice.doc").read_bytes()


def _docx() -> bytes:
    return files.docx_notice(posts=(files.POSTS[0], *ROWS[:200]))


MAKERS: dict[str, Callable[[], bytes | None]] = {
    "pdf": _pdf,
    "docx": _docx,
    "doc": _doc,
    "xlsx": lambda: files.xlsx(posts=(files.POSTS[0], *ROWS)),
    "xls": lambda: files.xls(posts=(files.POSTS[0], *ROWS)),
    "xls (WPS)": lambda: files.wps_xls({"岗位表": (files.POSTS[0], *ROWS)}),
    "ofd": lambda: files.ofd(tuple(LINE for _ in range(500)), per_page=25),
    "scanned pdf": files.scanned_pdf,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sandboxed", action="store_true")
    args = parser.parse_args()
    print(
        f"{'format':12} {'size':>9} {'chars':>7} {'s/file':>8} {'files/s':>8} {'MB/s':>7}  status"
    )
    for name, make in MAKERS.items():
        data = make()
        if data is None:
            print(f"{name:12} (skipped: LibreOffice is not installed to write one)")
            continue
        best = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            got = asyncio.run(extract_isolated(data, Limits())) if args.sandboxed else extract(data)
            best = min(best, time.perf_counter() - started)
        size = len(data) / 1e6
        print(
            f"{name:12} {len(data):>9} {len(got.text):>7} {best:>8.3f} {1 / best:>8.1f}"
            f" {size / best:>7.2f}  {got.status} {got.extractor or ''}"
        )
    ocr_speed(args.repeat, args.sandboxed)


def ocr_speed(repeat: int, sandboxed: bool) -> None:
    if not ocr_installed():
        print("ocr          (skipped: the ocr extra is not installed)")
        return
    pages = 3
    data = files.scan(tuple(LINE[: 24 + n % 10] for n in range(30)), pages=pages)
    if not sandboxed:
        read_scan(data)  # the models load once per process
    best = cpu = float("inf")
    for _ in range(min(repeat, 2)):
        started, used = time.perf_counter(), _cpu_seconds()
        got = asyncio.run(extract_isolated(data, Limits())) if sandboxed else read_scan(data)
        best = min(best, time.perf_counter() - started)
        cpu = min(cpu, _cpu_seconds() - used)
    # CPU seconds say what a page costs whatever else the machine is doing.
    print(
        f"{'ocr':12} {len(data):>9} {len(got.text):>7} {best / pages:>8.3f} s/page"
        f" {pages / best:>6.2f} pages/s  {cpu / pages:.2f} CPU s/page"
        f"  {got.status} {got.extractor or ''}"
    )


def _cpu_seconds() -> float:
    """CPU time of this process's threads and of the sandbox processes it waited for."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
