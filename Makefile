# Two commands set everything up on a fresh machine:
#   make run    the Telegram bot when TELEGRAM_BOT_TOKEN is set, else the same conversation in the terminal
#   make test   the whole test suite (lint included)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench eval clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench,cluster]'
	touch $(STAMP)

run: $(STAMP)
	@if [ -n "$$TELEGRAM_BOT_TOKEN" ]; then $(BIN)/newsbot run; else $(BIN)/newsbot chat; fi

test: $(STAMP)
	$(BIN)/ruff check corpus retrieval bot bench fakebot tests
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff format --check corpus retrieval bot bench fakebot tests
	$(BIN)/ruff check corpus retrieval bot bench fakebot tests
	$(BIN)/mypy

bench: $(STAMP)  # the README's figures (1M paragraphs: --sizes 1000000, and --news --times 10)
	$(BIN)/python -m bench ingest
	$(BIN)/python -m bench retrieval --sizes 10000,100000
	$(BIN)/python -m bench retrieval --news --times 1
	$(BIN)/python -m bench news
	$(BIN)/python -m bench timeline
	$(BIN)/python -m bench load
	$(BIN)/python -m bench soak --minutes 10

# Quality figures on the evaluation sets beside the repository (../shared/eval/), which a clone alone lacks.
CMRC := ../shared/eval/cmrc2018-train
NEWS := ../shared/eval/news
eval: $(STAMP)
	@if [ -f $(CMRC)/corpus.jsonl ] && [ -f $(CMRC)/queries.jsonl ]; then \
	  echo "== cmrc2018-train"; \
	  $(BIN)/newsbot eval --corpus $(CMRC)/corpus.jsonl --queries $(CMRC)/queries.jsonl; \
	else echo "make eval: $(CMRC)/corpus.jsonl and queries.jsonl are missing: cmrc2018 figures skipped"; fi
	@if [ -f $(NEWS)/articles.jsonl.gz ] && [ -f $(NEWS)/dev-questions.jsonl ]; then \
	  echo "== news dev set (archive in data/news.db)"; \
	  $(BIN)/newsbot --db data/news.db ingest $(NEWS)/articles.jsonl.gz >/dev/null; \
	  $(BIN)/newsbot --db data/news.db eval --queries $(NEWS)/dev-questions.jsonl --follow-ups; \
	else echo "make eval: $(NEWS)/articles.jsonl.gz and dev-questions.jsonl are missing: news figures skipped"; fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
