"""What `pip install govwatch` puts into site-packages: one top-level package, `govwatch`,
with its data files, and the `govwatch` command. Built offline from a copy of the tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # a wheel build


def build_wheel(tmp_path: Path) -> Path:
    # A copy, so the build's build/ and egg-info never land in the working tree.
    src = tmp_path / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", ".typecheck", "*cache*", "__pycache__", "*.egg-info", "build", "dist"
        ),
        symlinks=True,
    )
    out = tmp_path / "wheel"
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index"]
    built = subprocess.run(
        [*pip, "--no-build-isolation", "--wheel-dir", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = out.glob("govwatch-*.whl")
    return wheel


def test_the_wheel_installs_one_top_level_package(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        scripts = archive.read(entry_points).decode()
    top = {name.split("/")[0] for name in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"govwatch"}
    assert "govwatch = govwatch.cli:main" in scripts
    for data in (
        "govwatch/store/alembic.ini",
        "govwatch/store/migrations/env.py",
        "govwatch/server/templates/notice.html",
        "govwatch/demo/mirror/flows/generic.py",
        "govwatch/cli/__init__.py",
    ):
        assert data in names, data
