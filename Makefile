# Two commands set everything up on a fresh machine:
#   make run   - virtualenv, pinned packages, demo data if the database is empty, the dashboard
#   make test  - the same set-up plus Debian's chromium, then the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PORT ?= 8501

.PHONY: run test test-fast venv chromium demo bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(PY) -m data demo --if-empty

run: demo chromium
	$(PY) -m streamlit run dashboard.py --server.address localhost --server.port $(PORT)

chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

test: venv chromium
	$(PY) -m pytest -q

# The edit loop: no browser, no test marked slow (the whole suite stays `make test`).
test-fast: venv
	$(PY) -m pytest -q -m "not playwright and not slow"

# The budgets' size by default; e.g. `make bench BENCH_CALLS=1000000` for a quicker run.
BENCH_CALLS ?= 10000000
BENCH_RESPONSES ?= $(shell echo $$(( $(BENCH_CALLS) / 10 )))
bench: venv chromium
	$(PY) bench/run.py --calls $(BENCH_CALLS) --responses $(BENCH_RESPONSES) \
	  --out bench/results/bench-$(BENCH_CALLS).json

clean:
	rm -rf $(VENV) .pytest_cache
