"""Spreadsheets (XLSX, XLS, WPS ET) with python-calamine: 2.5–6× faster than xlrd or
openpyxl with the same cells, and it reads the GBK `.xls` files WPS writes. Each sheet is
a heading line and its rows, cells joined by " | " as in a notice body's tables, so a diff
goes row by row per sheet."""

from __future__ import annotations

import datetime as dt
import io

from python_calamine import CalamineWorkbook

from govwatch.parsers.attachments.records import Text

SHEET_HEADING = "工作表："


def calamine_text(data: bytes) -> Text:
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    lines: list[str] = []
    for name in workbook.sheet_names:
        lines.append(f"{SHEET_HEADING}{name}")
        for row in workbook.get_sheet_by_name(name).to_python(skip_empty_area=True):
            cells = [_cell(value) for value in row]
            while cells and not cells[-1]:
                cells.pop()
            if cells:
                lines.append(" | ".join(cells))
        lines.append("")
    return Text("\n".join(lines))


def _cell(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps every number as a float: 2.0 is a 2
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()
