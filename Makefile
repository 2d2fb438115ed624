# One task runner; CI calls `make test` unchanged.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_HOME ?= .demo-home
EXTRAS ?= images,signals,web,registry,evidence,faces,clip,ray,demo,bench,test

.PHONY: venv system-deps demo serve screenshots test lint typecheck unit base-install bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	bash scripts/system-deps.sh

demo: $(STAMP)
	$(VENV)/bin/traindex --home $(DEMO_HOME) demo

serve: $(STAMP)
	$(VENV)/bin/traindex --home $(DEMO_HOME) serve --demo

screenshots: system-deps $(STAMP)
	$(PY) scripts/screenshots.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/ruff format --check src tests bench scripts

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(VENV)/bin/pytest -q -n 2 tests/unit

# `pip install traindex` without extras, in a fresh venv (scripts/base-install-check.sh).
base-install:
	bash scripts/base-install-check.sh

test: system-deps $(STAMP) lint typecheck
	$(VENV)/bin/pytest -q -n 2
	bash scripts/base-install-check.sh

# Each script prints a table and writes bench/out/*.json; sizes are options (see --help).
BENCHES := ingest_lookup signals_bulk fingerprint_throughput pdq_index_speed portfolio_search \
	image_robustness keypoint_search registry_check filter_throughput registry_load registry_crash web_load \
	evidence_report faces_throughput faces_search faces_accuracy nearcopy_quality nearcopy_throughput \
	catalog_shards fanout_search cluster_jobs download_fingerprint candidate_verify iscc_vs_pdq \
	iscc_search kill9_resume pdq_interop registry_memory robots_conformance

bench: $(STAMP)
	for b in $(BENCHES); do PYTHONPATH=. $(PY) bench/$$b.py || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_HOME) .mypy_cache .ruff_cache .pytest_cache
