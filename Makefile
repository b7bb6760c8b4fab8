# Set-up-and-go targets (README): `make baseline` and `make test`.
# A project virtual environment in .venv is created on first use with Python >= 3.12
# (python3.13 / python3.12 on PATH, else pyenv's 3.12 or 3.13).

PYTHON ?= $(shell for p in python3.12 python3.13 \
	$${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: baseline test clean dashboard-assets

# pip runs without the caller's PYTHONWARNINGS: its own deprecation warnings are not the project's, and an
# error filter there (tests/test_docs.py runs `make baseline` with one) must not stop the set-up
$(BIN)/qhsim: pyproject.toml
	@test -n "$(PYTHON)" || { echo "qhsim needs Python >= 3.12 (python3.12 not found)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	env -u PYTHONWARNINGS $(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

baseline: $(BIN)/qhsim
	$(BIN)/qhsim run scenarios/baseline.toml --seeds 1,2,3,4,5,6,7,8 --workers 2 --out results/baseline

# one pytest worker per core, each test file on one worker (its module fixtures are built once): on a 2-core machine
# 8.5 min against 16-17 min on one worker (2026-12-06); then the browser tests alone (about 4 min), as an analyst's
# browser runs (beside a busy test worker a page's answer to a click was lost now and then)
test: $(BIN)/qhsim
	$(BIN)/python -m pytest -n auto --dist loadfile -m "not browser"
	$(BIN)/python -m pytest -m browser

# Solara's front-end files from the npm registry into Solara's asset cache, so `qhsim dashboard` works offline.
# On an intranet: make dashboard-assets NPM_REGISTRY=https://your-npm-mirror/
dashboard-assets: $(BIN)/qhsim
	$(BIN)/python -m qhsim.dashboard.assets $(if $(NPM_REGISTRY),--registry $(NPM_REGISTRY))

clean:
	rm -rf $(VENV) results
