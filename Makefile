# Two entry points for a fresh machine (see README):
#   make report   set up the environment and build the report on the embedded data
#   make test     set up the environment and run every test (unit, rebuild, nbval, browser)
# The interpreter of the project's environment: the distribution's python3.11 where it has one that
# can make a venv (Debian builds it with profile-guided and link-time optimisation; the pyenv build
# first on this machine's PATH has neither, and the same test suite took ~15% more CPU under it,
# see README, Speed), else python3.11 from PATH. Any Python 3.11 or 3.12 will do: PYTHON=python3.12.
DISTRO_PYTHON := $(shell /usr/bin/python3.11 -c 'import ensurepip, venv; print("/usr/bin/python3.11")' 2>/dev/null)
PYTHON ?= $(or $(DISTRO_PYTHON),python3.11)
VENV   ?= .venv
# One stamp per interpreter: a venv that another interpreter made is made again, from scratch.
STAMP   = $(VENV)/.installed-$(subst /,_,$(PYTHON))
PY      = $(VENV)/bin/python
YEAR   ?= 2025
AREA   ?= London

.PHONY: setup browser report notebooks data test reproduce clean-reports benchmark

# The project is installed in editable mode (the notebooks' kernels import the working tree).
# setuptools prints a generic advisory for every editable install of a package that sits at the
# top of its project ("careful with folders ... of the same name"); that is the intended layout
# here, so that one message is filtered, nothing else.
$(STAMP): pyproject.toml
	@if ls $(VENV)/.installed* >/dev/null 2>&1 && [ ! -e $(STAMP) ]; then \
		echo "$(VENV) was made by another Python: making it again with $(PYTHON)"; \
		$(PYTHON) -m venv --clear $(VENV); \
	else \
		$(PYTHON) -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install --quiet -e '.[test]'
	touch $@

setup: $(STAMP)

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

# Bytecode is cached (in the gitignored __pycache__ folders) even where the environment sets
# PYTHONDONTWRITEBYTECODE: the suite starts ~30 Python processes (workers, kernels, command-line
# runs), and each would otherwise compile the package and rewrite the tests' asserts again.
test: setup browser
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest

# Wipe generated outputs first, then rebuild data, committed notebooks and the report.
reproduce: setup
	rm -rf reports
	$(PY) -m analysis data build --raw-dir ../shared/data/raw
	$(PY) -m analysis notebooks
	$(PY) -m analysis report --year $(YEAR) --area "$(AREA)"

benchmark: setup
	$(PY) benchmarks/bench_report.py
