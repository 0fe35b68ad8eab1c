# vpipe — the two commands a new user runs:
#   make demo   install, then render the quickstart example (the main job)
#   make test   install, then run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-slow test-all lint bench mutation clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip "setuptools<81" wheel
	# torch first and pinned: resemblyzer needs it, and an unpinned torch pulls GBs of CUDA wheels
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev,neural,provenance,ray]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vpipe sample examples/quickstart
	$(BIN)/vpipe run examples/quickstart/recipe.yaml

test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow -q

test-all: test test-slow

lint: $(STAMP)
	$(BIN)/ruff check vpipe tests benchmarks

# mutation testing of the safety-critical modules ([tool.mutmut] in pyproject.toml; the score per
# module and every survivor with its reason: docs/mutation.md). CPU-heavy: runs at low priority.
# One module: make mutation MUTANTS='vpipe.outputs.*' (mutant names, fnmatch patterns).
MUTANTS ?=
mutation: $(STAMP)
	rm -rf mutants
	nice -n 15 $(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/mutmut results

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .vpipe examples/quickstart/.vpipe examples/quickstart/out mutants
