# tap-intacct developer commands. `make` alone lists them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help install demo test unit e2e lint bench clean

help:  ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 12

$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv with the tap and its test tools

demo: $(STAMP)  ## run the tap end to end on built-in sample exports (no AWS account needed)
	$(BIN)/python -m devtools.demo

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check .

test: lint unit e2e  ## everything CI runs: lint, unit and end-to-end tests

unit: $(STAMP)  ## fast tests of the pure modules
	$(BIN)/python -m pytest -q tests/unit

e2e: $(STAMP)  ## the installed command against moto's S3/STS server on 127.0.0.1
	$(BIN)/python -m pytest -q tests/e2e

bench: $(STAMP)  ## throughput, memory and S3 requests vs the csv+json floor (prints figures)
	$(BIN)/python -m devtools.bench

clean:  ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache *.egg-info .bench
