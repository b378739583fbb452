# The two commands: `make fuzz` (a 60-second PyTorch campaign, then a summary) and `make test`.
FUZZ_SECONDS ?= 60
PY = PYTHONPATH=$(CURDIR) .venv/bin/python
# OneFlow runs in its own Python 3.10 environment with its CUDA libraries on LD_LIBRARY_PATH.
ONEFLOW = scripts/oneflow-env
ONEFLOW_TESTS = $(wildcard tests/test_*oneflow*.py)

.PHONY: setup fuzz test
setup:
	@bash scripts/setup.sh >/dev/null

fuzz: setup
	./nabla-atheris fuzz torch --time $(FUZZ_SECONDS) --workdir work/torch

test: setup
	.venv/bin/ruff check nabla_atheris harnesses scripts tests
	$(PY) scripts/check_imports.py
	$(PY) -m pytest -q -p no:cacheprovider
	$(ONEFLOW) python -m pytest -q -p no:cacheprovider $(ONEFLOW_TESTS)
