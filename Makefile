# The two commands: `make run` and `make test`.  Only Python 3.11, git and make are needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed

.PHONY: lock run test test-fast test-browser test-load test-load-sqlite test-faults install migrate demo serve clean catalogs audit

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test]' -e examples/qinqing-visits
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/qinqing migrate

demo: migrate
	$(BIN)/qinqing demo

run: demo
	$(BIN)/qinqing serve --demo-banner

# make test spreads whole test files over the cores (pytest-xdist; each worker has its own database):
# TEST_WORKERS=0 runs them in one process.
TEST_WORKERS ?= auto
test: install
	$(BIN)/pytest -q --ignore=tests/browser -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The quick inner loop, under 30 s on an idle machine: unit tests that need neither a server nor the
# suite's database.  A path list (FAST_TESTS, whole files and single tests), not a marker: it runs with
# --noconftest, so tests/conftest.py's migrate + demo never start, and the settings point into a
# temporary directory (a SQLite file there if anything opens one).  A renamed test here makes pytest
# stop with "not found", and one importing tests.conftest stops with why.  `make test` still runs all of them.
FAST_TESTS = tests/test_uscc.py tests/test_filetypes.py tests/test_company_import.py tests/test_piccolo_private.py \
	tests/test_bench_plans.py \
	tests/test_speedups.py::test_foreign_key_attribute_check_answers_as_dir_did \
	tests/test_speedups.py::test_quick_sql_values_are_what_piccolo_would_write \
	tests/test_speedups.py::test_kept_template_translations_render_as_jinjas_own_gettext \
	tests/test_locale_formats.py::test_one_format_per_locale \
	tests/test_locale_formats.py::test_a_name_in_the_readers_language \
	tests/test_plugin_contract.py::test_every_hookspec_is_documented_implemented_and_tested \
	tests/test_plugin_contract.py::test_every_hookspec_is_typed_and_its_types_resolve \
	tests/test_plugin_contract.py::test_every_hookspec_shows_one_example_implementing_it \
	tests/test_plugin_contract.py::test_every_sdk_name_is_documented \
	tests/test_plugin_contract.py::test_the_example_plugin_is_among_the_sources_checked \
	tests/test_plugin_contract.py::test_every_sdk_name_is_used_by_a_bundled_plugin_or_the_example

test-fast: install
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	env DATABASE_URL="sqlite:///$$tmp/fast.db" QINQING_VAR_DIR="$$tmp/var" BROKER_URL= QINQING_FAST_TESTS=1 \
	  $(BIN)/pytest -q --noconftest -p no:schemathesis -p no:faker $(FAST_TESTS) $(PYTEST_ARGS)

# Chromium (Debian's /usr/bin/chromium) against a real server; screenshots in var/screenshots/.
test-browser: install
	$(BIN)/pytest -q -m browser tests/browser -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Load and faults (marker `load`, left out of `make test`): real processes on PostgreSQL (a fresh
# database on TEST_DATABASE_URL's server, else 127.0.0.1:5432; a private initdb cluster for the
# faults) and a private redis-server.  The full load run is `python -m bench.load`.
# test-load-sqlite: the same load on a SQLite file in a temporary directory, one `qinqing serve`
# with its in-process worker.  Both print their figures (-rP: the passed test's output).
test-load: install
	QINQING_LOAD_TESTS=1 $(BIN)/pytest -q -rP --noconftest -m load tests/test_load.py -k "not sqlite" $(PYTEST_ARGS)

test-load-sqlite: install
	QINQING_LOAD_TESTS=1 $(BIN)/pytest -q -rP --noconftest -m load tests/test_load.py -k sqlite $(PYTEST_ARGS)

test-faults: install
	QINQING_LOAD_TESTS=1 $(BIN)/pytest -q --noconftest -m load tests/test_faults.py $(PYTEST_ARGS)

# ruff (pyflakes, pycodestyle errors, import order), import-linter's contracts (imports point one
# way; plugins import only core.sdk) and mypy (the data layer, core.sdk and the CLI): all three
# configured in pyproject.toml.
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The locked set (requirements.lock) against PyPI's advisories, like `pip-audit -r requirements.lock`;
# pins PyPI cannot answer for are reviewed by hand in .ci/audit-reviewed.toml.
audit: install
	$(BIN)/python .ci/audit.py

# Re-pin every dependency to what a fresh install from pyproject.toml resolves to today.
lock:
	rm -rf var/lockvenv && $(PYTHON) -m venv var/lockvenv
	var/lockvenv/bin/pip install --quiet -e '.[test,bench]'
	{ echo '# Exact versions of every dependency, used as pip constraints by `make install`; refresh with `make lock`.'; \
	  var/lockvenv/bin/pip freeze --exclude-editable | grep -v '^qinqing'; } > requirements.lock
	rm -rf var/lockvenv

catalogs: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k UserError:2 -k tr -k to_users:3 -k to_role:4 -k to_company:2 -k notify:3 -o web/locale/messages.pot --no-location --omit-header core web workers tenants plugins examples
	$(BIN)/pybabel update -i web/locale/messages.pot -d web/locale -D messages --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) var
