# The two commands of the README: `make run` and `make test`. Everything else serves them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup run test lint format messages compile-messages bench-checkout bench-pipeline bench-admin

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

## Set up and run the product on its embedded default: SQLite, a file-system broker,
## a real Celery worker (with beat), the InfinitePay sandbox, and demo data.
run: setup
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	INFINITEPAY_TEST_URL=http://127.0.0.1:8090/ws/InfinitePayAPI \
		$(BIN)/honcho --procfile Procfile.dev start

## Set up and pass the tests: lint and type checks, then pytest (SQLite and in-process by default;
## PostgreSQL, Redis and a real worker when DATABASE_URL/CELERY_BROKER_URL say so).
test: setup lint
	$(BIN)/pytest $(PYTEST_ARGS)

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Translations (README, "Languages"): extract every string of ours into the German catalogues
## (each app's <app>/locale/, the top-level templates' locale/), then compile them. Extracting
## needs GNU gettext's xgettext; compiling is pure Python (Babel), and the compiled .mo files
## are committed, so a fresh machine needs neither step.
MESSAGE_LOCALES ?= de

messages: setup
	$(BIN)/python manage.py makemessages $(addprefix --locale ,$(MESSAGE_LOCALES)) --no-obsolete \
		--ignore=tests --ignore=bench --ignore=sandbox --ignore=docs --ignore=var \
		--ignore=staticfiles --ignore=test-artifacts --ignore='*.egg-info'
	$(MAKE) compile-messages

compile-messages: setup
	@for dir in $(wildcard locale */locale); do \
		$(BIN)/pybabel compile --domain django --directory $$dir --statistics || exit 1; \
	done

## Benchmarks (docs/benchmarks.md): each makes its own PostgreSQL database and uses Redis db 7.
bench-checkout: setup
	$(BIN)/python bench/checkout.py $(BENCH_ARGS)

bench-pipeline: setup
	$(BIN)/python bench/pipeline.py $(BENCH_ARGS)

bench-admin: setup
	$(BIN)/python bench/admin.py $(BENCH_ARGS)
