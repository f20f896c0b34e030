# The two commands of the README: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
WEB_PORT ?= 5000
DEV_MAILBOX_PORT ?= 1025
# Links in emails point at the local web process unless BASE_URL says otherwise.
BASE_URL ?= http://127.0.0.1:$(WEB_PORT)
export WEB_PORT DEV_MAILBOX_PORT BASE_URL

.PHONY: run test install lint lock migrate demo clean free-ports

install: $(VENV)/.installed

# The versions in requirements-dev.lock (runtime + dev tools), then the package itself.
$(VENV)/.installed: pyproject.toml requirements.lock requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# After changing the dependencies in pyproject.toml: pin them again (scripts/lock).
lock: install
	BIN=$(BIN) bash scripts/lock

migrate: install
	$(BIN)/newsletter db upgrade

demo: migrate
	$(BIN)/newsletter demo load

# free-ports first: a port in use stops `make run` with one line, before anything starts.
run: free-ports demo
	@echo
	@echo "  Site:         http://127.0.0.1:$(WEB_PORT)/"
	@echo "  Health:       http://127.0.0.1:$(WEB_PORT)/healthz"
	@echo "  Editors:      http://127.0.0.1:$(WEB_PORT)/admin/"
	@echo "  Dev mailbox:  http://127.0.0.1:$(WEB_PORT)/dev/mailbox/  (SMTP on 127.0.0.1:$(DEV_MAILBOX_PORT))"
	@echo "  Ctrl-C stops everything."
	@echo
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python scripts/run.py

# $(error) rather than a failing command: make adds no "*** Error 1" line of its own after it.
PORTS_TAKEN = $(shell $(PYTHON) scripts/check_ports.py WEB_PORT=$(WEB_PORT) DEV_MAILBOX_PORT=$(DEV_MAILBOX_PORT))
free-ports:
	@$(if $(PORTS_TAKEN),$(error $(PORTS_TAKEN)))

test: install
	bash scripts/ensure-test-deps
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check newsletter worker tests bench
	$(BIN)/ruff format --check newsletter worker tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) instance .pytest_cache
