# tpcml developer entry points. Both targets install what they need (idempotent).
.PHONY: run test lint format bench clean stubs
SHELL := /bin/bash
VENV ?= venv

run:   ## main job on the embedded default (simulated data): the PandaX-II accidental-background study
	@bash scripts/setup.sh
	@$(VENV)/bin/tpcml run accidental --out tpcml-accidental

test:  ## all tests: C++ (GoogleTest via CTest) and Python (pytest)
	@bash scripts/setup.sh
	@bash scripts/test.sh

bench: ## benchmarks: a table of figures, targets and ratios measured in one run
	@bash scripts/setup.sh
	@for b in pandax2 inference pandax3 tracks hitpeak waveforms lxe_events stats xenon1t darwin xenonnt ensemble; do \
		$(VENV)/bin/python bench/bench_$$b.py || exit 1; done

lint:
	@$(VENV)/bin/ruff check python tests macros bench tools
	@$(VENV)/bin/ruff format --check python tests macros bench tools
	@$(VENV)/bin/clang-format --dry-run -Werror $$(git ls-files '*.h' '*.cxx' '*.cpp' '*.C')

format:
	@$(VENV)/bin/ruff format python tests macros bench tools
	@$(VENV)/bin/ruff check --fix python tests macros bench tools
	@$(VENV)/bin/clang-format -i $$(git ls-files '*.h' '*.cxx' '*.cpp' '*.C')

clean:
	rm -rf build tpcml-quickstart tpcml-accidental

stubs: ## regenerate python/tpcml/_core.pyi from the built module (tests/python/test_stubs.py checks it is current)
	@bash scripts/setup.sh
	@$(VENV)/bin/python scripts/write_stubs.py
