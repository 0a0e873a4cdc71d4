# Set-up contract: `make demo` and `make test` work on a fresh machine with only
# Python 3.11 and pip. Every install goes through constraints.txt (CPU torch 2.13.0,
# transformers<5 for flair) in one pip command, so pip never backtracks.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --disable-pip-version-check -c constraints.txt

.PHONY: demo test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-base: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e ".[test]"
	touch $@ $(VENV)/.installed-base

# Until the flair + openner main job lands, the demo trains the lexicon baseline on
# the embedded hironsan corpus and prints its score table.
demo: $(VENV)/.installed-base
	$(BIN)/nerkit datasets
	$(BIN)/nerkit run --tagger lexicon --dataset hironsan --out demo-out/runs
	$(BIN)/nerkit convert --dataset hironsan --split test demo-out/hironsan-test.bioes.conll --to-scheme BIOES
	@echo "--- first lines of demo-out/hironsan-test.bioes.conll"
	@head -n 12 demo-out/hironsan-test.bioes.conll

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

# pytest exits 5 when it collects no test; make treats any non-zero exit as failure.
test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) demo-out .pytest_cache .ruff_cache .hypothesis
