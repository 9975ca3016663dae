# The README's commands. `make demo` runs the main job end to end, `make test` the suite.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test check lint install bench

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/govwatch demo
	$(VENV)/bin/govwatch clean --format text tests/fixtures/sd_gongkai/detail.html \
		--url http://www.zhangdian.gov.cn/gongkai/site_zdqjyhtyj/detail.html | head -n 12

# mypy checks the package as it installs, one `govwatch` with the layer folders inside
# it: a tree of symlinks, remade each run (setuptools' editable hook is opaque to mypy).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	rm -rf .typecheck && mkdir -p .typecheck/govwatch
	ln -s $(addprefix ../../,$(filter-out %__pycache__/,$(wildcard govwatch/*.py govwatch/*/))) .typecheck/govwatch/
	for layer in parsers crawler store feeds; do ln -s ../../$$layer .typecheck/govwatch/$$layer; done
	$(VENV)/bin/mypy

# Every test but the serial ones is safe to spread over every core (PostgreSQL, browser
# and process tests included); the serial ones time crawls, kills, restarts and stops, or
# load OCR, so they run one at a time, after the rest.
test: lint
	$(PY) -m pytest -m "not serial" -n auto --dist loadgroup
	$(PY) -m pytest -m serial

# The fast loop: lint and every test but the slow ones (PostgreSQL, browser, SIGKILL, faults,
# server processes), on every core (pytest-xdist; a group shares a fixed port).
check: lint
	$(PY) -m pytest -m "not slow" -n auto --dist loadgroup

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) bench/clean_speed.py
