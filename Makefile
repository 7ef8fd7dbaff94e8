# salvus_local: the two commands of a fresh clone are `make run` and `make test`.
#
#   make run          set up .venv (Sage included) and start salvus-local
#   make test         set up, install system packages (when root), run every test
#   make setup        only the .venv and the front end
#   make system-deps  Debian packages for the browser and desktop tests (installs when root)
#   make bench        side-by-side benchmark against jupyter_server (own venv: .venv-bench)
#
# Every step is idempotent: a second `make test` skips what is already installed.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= sage,desktop,dev
# Per-test timeout so a hung server never hangs CI; extra pytest options go in PYTEST_ARGS.
PYTEST_ARGS ?=
PYTEST_TIMEOUT ?= 600
RUN_ARGS ?=
# Written by `make setup`; lives inside the venv so deleting .venv forces a reinstall.
INSTALLED := $(VENV)/.salvus-local-installed
STATIC_STAMP := static/node_modules/.salvus-local-built
IS_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo yes)

# Debian packages: a real Chromium for the browser tests, Xvfb + ImageMagick for desktop
# screenshots, git for projects, desktop-file-validate for the menu entry, and the Qt/QtWebEngine
# libraries pywebview[qt] loads.
APT_PACKAGES := chromium xvfb xauth imagemagick git desktop-file-utils \
	libegl1 libgl1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 \
	libxcb-keysyms1 libxcb-render-util0 libxcb-xinerama0 libxcb-xkb1 libxcb-shape0 \
	libnss3 libxcomposite1 libxdamage1 libxrandr2 libxtst6 libasound2 libxkbfile1 \
	libxshmfence1 libgbm1

.PHONY: help setup venv static run test system-deps session-access bench clean

help:
	@sed -n '2,9p' Makefile | sed 's/^# \{0,1\}//'

setup: venv static

venv: $(INSTALLED)

$(INSTALLED): setup.py pyproject.toml
	@if ! $(PYTHON) -c 'import ensurepip' 2>/dev/null; then \
	  if [ -n "$(IS_ROOT)" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; \
	  else echo "$(PYTHON) cannot create venvs: install python3-venv (apt-get install python3-venv)" >&2; exit 1; fi; \
	fi
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	@touch $@

# Build the HTML5 client into salvus_local/_static when static/ has a package.json;
# rebuild when a source file is newer than the last build or the output is missing.
static:
	@if [ ! -f static/package.json ]; then echo "static/package.json not found: no front end to build"; exit 0; fi; \
	if [ -f $(STATIC_STAMP) ] && [ -d salvus_local/_static ] && \
	   [ -z "$$(find static -path static/node_modules -prune -o -type f -newer $(STATIC_STAMP) -print -quit)" ]; then \
	  echo "front end is up to date"; exit 0; fi; \
	cd static; \
	if [ ! -f node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ] || \
	   [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi; \
	fi; \
	npm run build; \
	touch ../$(STATIC_STAMP)

run: setup session-access
	$(VENV)/bin/salvus-local $(RUN_ARGS)

# A root server runs sessions as uid 65534, which must be able to enter the folders that hold
# Python, the venv and this checkout (a pyenv under /root or a mktemp -d clone are 0700).
# salvus-local refuses to start otherwise; here we add only the search bit (o+x) on the way.
session-access:
	@if [ -n "$(IS_ROOT)" ]; then \
	  for target in "$$(readlink -f $(PY))" "$$($(PY) -c 'import os, sys; print(os.path.dirname(os.__file__))')" "$(CURDIR)/salvus_local" "$$($(VENV)/bin/python -c 'from salvus_local.config import default_data_dir; print(default_data_dir())' 2>/dev/null || echo /)/x"; do \
	    d="$$target"; \
	    while [ "$$d" != / ]; do \
	      d=$$(dirname "$$d"); \
	      if [ -d "$$d" ] && [ $$(( 0$$(stat -c %a "$$d") & 1 )) -eq 0 ]; then \
	        echo "sessions run as uid 65534: letting them enter $$d (chmod o+x)"; chmod o+x "$$d"; \
	      fi; \
	    done; \
	  done; \
	fi

# As root (CI) the system packages are installed first; otherwise only checked.
# Without a display the tests run under xvfb-run, so desktop-window tests have an X server.
# pytest exit 5 ("no tests collected", e.g. a -k filter matching nothing) is reported, not failed.
# The front end's own tests (npm test in static/) run too when static/test exists.
test: setup system-deps session-access
	@mkdir -p .make
	@export QTWEBENGINE_CHROMIUM_FLAGS="$${QTWEBENGINE_CHROMIUM_FLAGS:-$(if $(IS_ROOT),--no-sandbox,)}"; \
	wrap=(); if [ -z "$${DISPLAY:-}" ] && command -v xvfb-run >/dev/null; then wrap=(xvfb-run -a -s "-screen 0 1280x1024x24"); fi; \
	set +e; \
	npm_rc=0; npm_summary="not run (no static/test)"; \
	if [ -f static/package.json ] && [ -d static/test ]; then \
	  (cd static && npm test) 2>&1 | tee .make/npm-test.log; npm_rc=$${PIPESTATUS[0]}; \
	  npm_summary="exit $$npm_rc: $$(grep -E '^(# |ℹ )(pass|fail) ' .make/npm-test.log | tr '\n' ' ')"; \
	fi; \
	$${wrap[@]+"$${wrap[@]}"} $(VENV)/bin/pytest -q -p no:cacheprovider --timeout=$(PYTEST_TIMEOUT) $(PYTEST_ARGS) tests 2>&1 | tee .make/pytest.log; \
	rc=$${PIPESTATUS[0]}; set -e; \
	summary=$$(grep -E '^(=+ )?[0-9]+ (passed|failed|error|errors|skipped|deselected)|no tests ran' .make/pytest.log | tail -n 1); \
	echo "make test: npm test $$npm_summary"; \
	echo "make test: pytest exit $$rc: $${summary:-no summary line (pytest crashed?)}"; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests"; rc=0; fi; \
	if [ $$npm_rc -ne 0 ]; then exit $$npm_rc; fi; \
	exit $$rc

system-deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  installed=no; \
	  for name in "$$p" "$${p}t64"; do \
	    case "$$(dpkg-query -W -f='$${db:Status-Abbrev}' "$$name" 2>/dev/null || true)" in ii*) installed=yes;; esac; \
	  done; \
	  [ $$installed = yes ] || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "system packages: all present"; exit 0; fi; \
	if [ -n "$(IS_ROOT)" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing; \
	else \
	  echo "missing system packages (browser/desktop tests need them):$$missing"; \
	  echo "install them with: sudo apt-get install$$missing"; \
	fi

bench:
	bench/run $(BENCH_ARGS)

clean:
	rm -rf build dist *.egg-info .make .pytest_cache salvus_local/_static $(STATIC_STAMP)
