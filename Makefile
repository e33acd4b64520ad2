# tagwise — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
export TAGWISE_HOME ?= var
# the model `make run` trains when none is registered (falls back to TF-IDF if the gate refuses it)
CONFIG ?= configs/champion.yaml

.PHONY: run test install lint unit bench lock clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

install: $(STAMP)

## run: install, train the default model if none is registered, serve API + web UI
run: install
	$(BIN)/tagwise bootstrap --projects datasets/projects.json --tags datasets/tags.json $(if $(CONFIG),--config $(CONFIG))
	$(BIN)/tagwise serve --host 127.0.0.1 --port 8000 $(if $(CONFIG),--config $(CONFIG))

## test: lint + the whole test suite
test: install lint
	bash scripts/install-browser.sh
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: install
	$(BIN)/python benchmarks/foundation.py

## lock: re-pin every dependency from the current virtualenv
lock:
	$(BIN)/pip freeze --exclude-editable | grep -v '^tagwise' > requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
