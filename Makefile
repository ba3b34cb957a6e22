# Two commands on a fresh machine (Python 3.11, npm): `make synth` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
STAMP_PY := $(VENV)/.installed
STAMP_NODE := node_modules/.installed
STAMP_OPT := $(VENV)/.compiled-O

# Offline and quiet CLI.
export CDK_DISABLE_CLI_TELEMETRY := 1
# The pinned Node (npm package `node`, package.json) runs the CDK CLI and jsii, whatever Node the machine has.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup synth test typecheck bench diagram docs docs-serve clean

setup: $(STAMP_PY) $(STAMP_NODE) $(STAMP_OPT)

$(STAMP_PY): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# cdk.json runs the app with -O (app.py says why): compile the installed packages' -O bytecode once, here, rather than
# on the first synth (or on every synth where PYTHONDONTWRITEBYTECODE is set); aws-cdk-lib's bindings take a minute of
# CPU. Its own stamp, so that a venv made before this step, or a change to it here, gets it too.
$(STAMP_OPT): $(STAMP_PY) Makefile
	$(VENV)/bin/python -O -m compileall -q -j 0 $$($(VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
	touch $@

$(STAMP_NODE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## synth: the default deployment (EFS, new VPC) into a fresh cdk.out; pass settings as CDK_ARGS="-c key=value ..."
synth: setup
	rm -rf cdk.out
	cdk synth --quiet $(CDK_ARGS)
	@echo "Templates written to cdk.out/"

## typecheck: mypy --strict over the library and the example app (settings in pyproject.toml)
typecheck: setup
	$(VENV)/bin/mypy

## test: the type check, then every test (unit, snapshot, user data, shellcheck, cfn-lint, cdk-nag, CLI, package) on two
## workers; JOBS=1 for one (each worker synthesizes the configurations its tests need). Bytecode is cached (in the
## ignored __pycache__ directories) even where PYTHONDONTWRITEBYTECODE is set: the run starts about a hundred Python
## processes that import the same modules, and pytest caches its rewritten test modules the same way.
test: typecheck
	env -u PYTHONDONTWRITEBYTECODE $(VENV)/bin/python -m pytest -n $(or $(JOBS),2) $(PYTEST_ARGS)

## bench: CLI synth time, CPU and peak memory of the default and every-feature variants against the floor (an empty
## app with cdk-nag) in interleaved pairs, then where each one's time goes (jsii round trips, Node CPU by component)
bench: setup
	$(VENV)/bin/python bench/synth.py --runs $(or $(RUNS),5)
	$(VENV)/bin/python -O bench/phases.py --variant default
	$(VENV)/bin/python -O bench/phases.py --variant "every feature"

## diagram: redraw the architecture diagrams (README: overview; docs/architecture.md: detailed) from the default template
diagram: setup
	rm -rf cdk.out
	cdk synth --quiet mmbatch-efs
	$(VENV)/bin/python tools/diagram.py cdk.out/mmbatch-efs.template.json --readme README.md --page docs/architecture.md

## docs: the documentation site into site/ (strict: a warning, broken link or missing reference fails it)
docs: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

## docs-serve: the site at http://127.0.0.1:8000, rebuilt on every change
docs-serve: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve

clean:
	rm -rf site cdk.out .pytest_cache dist build *.egg-info
