# One command each: `make repro` runs the pipeline, `make test` the whole test suite.
# Both create .venv and install the project (pinned by requirements.lock) when it is missing.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: install repro test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

repro: $(STAMP)
	dvc repro

test: $(STAMP)
	$(PY) -m ruff check lcpipe stages tests bench
	$(PY) -m pytest -n auto --dist worksteal

lint: $(STAMP)
	$(PY) -m ruff check lcpipe stages tests bench

clean:
	rm -rf .lcpipe .pytest_cache
