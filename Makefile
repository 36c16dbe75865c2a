# The two commands: `make run` and `make test`.  Only Python 3.11, git and make are needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed

.PHONY: run test install migrate demo serve clean catalogs

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/qinqing migrate

demo: migrate
	$(BIN)/qinqing demo

run: demo
	$(BIN)/qinqing serve --demo-banner

test: install
	$(BIN)/pytest -q $(PYTEST_ARGS)

catalogs: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k UserError:2 -k tr -k to_users:3 -k to_role:4 -k to_company:2 -k notify:3 -o web/locale/messages.pot --no-location --omit-header core web workers tenants plugins
	$(BIN)/pybabel update -i web/locale/messages.pot -d web/locale -D messages --no-fuzzy-matching

clean:
	rm -rf $(VENV) var
