# The two commands: `make fuzz` (a 60-second PyTorch campaign, then a summary) and `make test`.
FUZZ_SECONDS ?= 60
PY = PYTHONPATH=$(CURDIR) .venv/bin/python

.PHONY: setup fuzz test
setup:
	@bash scripts/setup.sh >/dev/null

fuzz: setup
	$(PY) -m nabla_atheris fuzz torch --time $(FUZZ_SECONDS) --workdir work/torch

test: setup
	.venv/bin/ruff check nabla_atheris harnesses scripts tests
	$(PY) -m pytest -q -p no:cacheprovider
