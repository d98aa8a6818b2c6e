# Two entry points for a fresh machine (see README):
#   make report   set up the environment and build the report on the embedded data
#   make test     set up the environment and run every test (unit, rebuild, nbval, browser)
PYTHON ?= python3.11
VENV   ?= .venv
PY      = $(VENV)/bin/python
YEAR   ?= 2025
AREA   ?= London

.PHONY: setup browser report notebooks data test reproduce clean-reports benchmark

# The project is installed in editable mode (the notebooks' kernels import the working tree).
# setuptools prints a generic advisory for every editable install of a package that sits at the
# top of its project ("careful with folders ... of the same name"); that is the intended layout
# here, so that one message is filtered, nothing else.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed

# Debian's Chromium and its driver for the headless browser test (never a browser download).
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
		echo "installing Debian chromium and chromium-driver"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

report: setup
	$(PY) -m analysis report --year $(YEAR) --area "$(AREA)"

notebooks: setup
	$(PY) -m analysis notebooks

data: setup
	$(PY) -m analysis data build --raw-dir ../shared/data/raw

test: setup browser
	$(PY) -m pytest

# Wipe generated outputs first, then rebuild data, committed notebooks and the report.
reproduce: setup
	rm -rf reports
	$(PY) -m analysis data build --raw-dir ../shared/data/raw
	$(PY) -m analysis notebooks
	$(PY) -m analysis report --year $(YEAR) --area "$(AREA)"

benchmark: setup
	$(PY) benchmarks/bench_report.py
