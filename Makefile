# The two commands of the quick start are `make run` and `make test`; each sets up what is missing.
PY := .venv/bin/python
# The module `make run` starts; the launcher tests substitute a stand-in (tests.helpers.fake_launcher).
LAUNCHER ?= launcher
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: setup lint run test train eval-nlu eval eval-faq eval-faq-multi bench bench-booking bench-load lock clean

setup: ## create .venv with Python 3.10 and install requirements.lock (only when changed)
	@bash scripts/setup.sh

run: setup ## migrate, seed, train if needed, start and watch every process; Ctrl-C stops all
	@$(PY) -m $(LAUNCHER)

lint: setup ## ruff (lint, and format check) and mypy; part of `make test`
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .
	@.venv/bin/mypy

test: setup lint ## lint and types, then the whole test suite (trains the model once per training-data fingerprint)
	@bash scripts/setup_browser.sh
	@$(PY) -m pytest $(PYTEST_ARGS)

train: setup ## train the Rasa model if the training data changed; prints its path
	@$(PY) -m civil_affairs.rasa_model

eval-nlu: setup ## 5-fold cross-validation of the NLU data: intent macro F1 and entity F1
	@$(PY) scripts/eval_nlu.py

eval: setup ## run eval cases through the REST channel (default ../shared/eval/dev-cases.yml)
	@$(PY) scripts/eval_cases.py $(filter-out $@,$(MAKECMDGOALS))

eval-faq: setup ## 5-fold cross-validation of the FAQ ranker over the entries' variants (add ARGS=--calibrate)
	@time $(PY) scripts/eval_faq.py $(ARGS)

eval-faq-multi: setup ## the same folds: two-question messages, each asking clause answered on its own
	@time $(PY) scripts/eval_faq_multi.py $(ARGS)

bench: setup ## NLU pipeline comparison on SMP2017-ECDT task 1
	@$(PY) scripts/bench_nlu_pipeline.py

bench-booking: setup ## 200 simultaneous bookings on a slot of capacity 5 (SQLite, PostgreSQL if reachable)
	@$(PY) scripts/bench_booking.py

bench-load: setup ## residents at 1/10/50 at once: Rasa REST, web chat, Telegram; default and replicas (BENCH_ARGS=--quick)
	@$(PY) scripts/bench_load.py $(BENCH_ARGS)

lock: setup ## re-resolve requirements.in into requirements.lock in a throwaway venv
	@bash scripts/lock.sh

clean: ## remove trained models and the local database (keeps .venv)
	rm -rf models data

%:
	@:
