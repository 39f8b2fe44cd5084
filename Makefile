# Two entry points for a fresh machine: `make run` and `make test`. Both are idempotent:
# stamps under .venv/ skip the install when pyproject.toml has not changed.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test lint install install-test index ui demo eval bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Runtime: the offline default needs no torch, so `make run` never installs it.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

# Tests also exercise the sentence-transformers backend and a real llama.cpp server.
# torch==2.13.0 goes first: pip takes the CPU build from local disk; an unpinned torch is a multi-GB CUDA build.
$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[st,llm-server,postgres,test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
	bash scripts/install-system-deps.sh
	$(MAKE) --no-print-directory wechat/node_modules/.installed

# The mini-program's jest tests (wechat/): npm packages from the lock file, node and npm from Debian
# (installed by the line above, hence a sub-make rather than a prerequisite).
wechat/node_modules/.installed: wechat/package-lock.json wechat/package.json
	cd wechat && npm ci
	touch $@

index: install
	$(BIN)/policy-assistant ingest

run: index
	$(BIN)/policy-assistant ui

# ruff and mypy as configured in pyproject.toml: lint, formatting and types of assistant/ and ui/.
lint: install-test
	$(BIN)/ruff check assistant ui bench tests
	$(BIN)/ruff format --check assistant ui
	$(BIN)/mypy

test: install-test lint
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose"; exit 1; fi; exit $$rc

eval: install
	$(BIN)/policy-assistant eval --output .data/eval/out.jsonl --report .data/eval/report

bench: install
	$(BIN)/python bench/bench_answer.py
	$(BIN)/python bench/api_load.py

clean:
	rm -rf .data .pytest_cache
