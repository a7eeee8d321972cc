# liqscan: `make demo` runs the main job on a local devnet; `make test` runs every test.
SHELL := /bin/bash
# The virtualenv's interpreter: PY=/path/to/python3, else scripts/pick_python.py's choice (the
# distribution's optimised build first: the exact math ran 1.8x faster here than on pyenv's build)
PY ?=
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# another apt run (a second clone's setup, unattended upgrades) holds the lock: wait for it
APT_WAIT := -o DPkg::Lock::Timeout=600

.PHONY: setup demo test bench lint clean postgres-bin chromium-bin native

setup: $(STAMP) node_modules/.installed postgres-bin chromium-bin native

$(STAMP): pyproject.toml
	test -x $(BIN)/python || { py=$(or $(PY),$$(python3 scripts/pick_python.py)) && $$py -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch node_modules/.installed

# The compiled exact math (scanner/native.py): built once per version of its sources into
# .cache/native/<key>; skipped when up to date; a failed build prints one line (pure Python).
native: $(STAMP)
	$(BIN)/python -m scanner.native_build

# A real PostgreSQL server for the tests (Debian package); skipped when already installed.
postgres-bin:
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "PostgreSQL server binaries present"; \
	else \
	  echo "installing PostgreSQL (apt)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get $(APT_WAIT) update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get $(APT_WAIT) install -y -qq postgresql >/dev/null; \
	fi

# Headless Chromium for the web page test (Debian package); skipped when already installed.
chromium-bin:
	@if command -v chromium >/dev/null 2>&1; then \
	  echo "Chromium present"; \
	else \
	  echo "installing Chromium (apt)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get $(APT_WAIT) update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get $(APT_WAIT) install -y -qq chromium >/dev/null; \
	fi

demo: setup
	$(BIN)/liqscan demo

test: setup
	$(BIN)/ruff check scanner tests bench
	$(BIN)/mypy scanner
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/run_all.py

lint: setup
	$(BIN)/ruff check scanner tests bench
	$(BIN)/mypy scanner

clean:
	rm -rf $(VENV) node_modules .cache
