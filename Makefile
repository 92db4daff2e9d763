# `make demo`: set up .venv (with the studio's extra) and run the main job on the built-in data (results in out/);
#   then `.venv/bin/tunesmith studio --runs out/runs` serves the page (docs/studio.md).
# `make test`: set up .venv with the dev and studio extras and run every test.
# `make pretrained`: retrain the shipped models and ship them into src/tunesmith/pretrained (docs/models.md);
#   MAESTRO=DIR for piano, rnn and gan, CLASSICAL=DIR for crnngan, crnngan3 and baseline (the C-RNN-GAN paper's
#   collection), GROOVE=DIR for groove (the Groove MIDI Dataset), OPENEWLD=DIR for leadsheet (OpenEWLD),
#   PRETRAINED_ARGS="--models bach --minutes 5" to change what and how long.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

.PHONY: demo test lint bench clean pretrained

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install --quiet -c constraints.txt -e '.[studio]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install --quiet -c constraints.txt -e '.[dev,studio]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/tunesmith demo --out out

pretrained: $(VENV)/.installed
	$(BIN)/python benchmarks/pretrained.py $(if $(MAESTRO),--maestro $(MAESTRO)) $(if $(CLASSICAL),--classical $(CLASSICAL)) $(if $(GROOVE),--groove $(GROOVE)) $(if $(OPENEWLD),--openewld $(OPENEWLD)) $(PRETRAINED_ARGS)

test: $(VENV)/.installed-dev
	$(BIN)/python -m ruff check src tests benchmarks
	$(BIN)/python -m pytest -n 2 -q

lint: $(VENV)/.installed-dev
	$(BIN)/python -m ruff check src tests benchmarks

clean:
	rm -rf out .pytest_cache build src/*.egg-info
