# vergeio.billing: `make demo` shows it working, `make test` runs every test. Both set themselves up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The ansible-core lines `make test` runs, each on a Python it supports. The patch release of each line is pinned in
# tests/constraints/ansible-core-<line>.txt (a bump is one line there); the README's support table names them.
NEWEST := 2.21
OLDEST := 2.16
PY_NEWEST := 3.13
PY_OLDEST := 3.11
# pyenv's shims answer for Pythons that are installed but not selected with an error, so each candidate is tried.
find_python = $(firstword $(foreach p,$(shell command -v python$(1) 2>/dev/null) $(wildcard $(HOME)/.pyenv/versions/$(1).*/bin/python$(1)),$(if $(shell $(p) -c 'print(1)' 2>/dev/null),$(p))))
PYTHON ?= $(call find_python,$(PY_NEWEST))
PYTHON_OLDEST ?= $(call find_python,$(PY_OLDEST))
# The FOCUS validator's venv (test-only): Python 3.12, where its NumPy 1.x pin has wheels (tests/requirements-focus.txt).
PY_FOCUS := 3.12
PYTHON_FOCUS ?= $(call find_python,$(PY_FOCUS))

VENV := $(CURDIR)/.venv
VENV_OLDEST := $(CURDIR)/.venv-$(OLDEST)
VENV216 := $(VENV_OLDEST)
VENV_FOCUS := $(CURDIR)/.venv-focus
BUILD := $(CURDIR)/build
COLLECTIONS := $(BUILD)/collections
TREE := $(COLLECTIONS)/ansible_collections/vergeio/billing
# The oldest line gets a tree of its own, so that both lines' ansible-test runs (tests/output) can go on at once.
COLLECTIONS_OLDEST := $(BUILD)/$(OLDEST)/collections
TREE_OLDEST := $(COLLECTIONS_OLDEST)/ansible_collections/vergeio/billing
PY := $(VENV)/bin/python
VERSION = $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL = $(BUILD)/vergeio-billing-$(VERSION).tar.gz
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_FORCE_COLOR := 0
export PYTHONDONTWRITEBYTECODE := 1

# pip, quiet but for errors (the machine's pip config names local indexes that may not exist: that warning is dropped).
pip_install = $(1)/bin/pip install --quiet --disable-pip-version-check $(2) 2>&1 | { grep -v 'neither a file nor a directory' || true; }; test $${PIPESTATUS[0]} -eq 0
# The tracked and new files, copied to an ansible_collections/NAMESPACE/NAME tree with a git index of its own
# (build/ is ignored by this repo's git, and ansible-test lists the files it tests from git).
copy_tree = rm -rf $(1) && mkdir -p $(1) \
	&& git ls-files -z --cached --others --exclude-standard | xargs -0 -r sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh \
	  | tar --null -T - -cf - | tar -xf - -C $(1) \
	&& cd $(1) && git init -q && git add -A
# ansible-test bootstraps pip in its sanity venvs with a get-pip.py from its own file host, which is not reachable
# here: tests/sanity/get_pip.py stands in for it (see the file) under each cache name that ansible-core line asks for.
get_pip = mkdir -p $(HOME)/.ansible/test/cache && for name in $$($(1)/bin/python tests/sanity/get_pip.py --cache-names); do \
	cp tests/sanity/get_pip.py $(HOME)/.ansible/test/cache/$$name; done

.PHONY: help demo test delivery-collections venv venv-oldest tree tree-oldest build units units-$(OLDEST) functional functional-$(OLDEST) \
	integration integration-$(OLDEST) sanity sanity-$(OLDEST) lint docs-lint changelog-lint actionlint package units-installed ee docs \
	venv-focus focus bench bench-report simulator lock clean

help:
	@echo "make demo   set up, start the VergeOS API simulator, run the demo playbook, stop"
	@echo "make test   every test: unit, functional, integration and sanity on ansible-core $(NEWEST) (Python $(PY_NEWEST))"
	@echo "            and $(OLDEST) (Python $(PY_OLDEST)); lint, docs, changelog, CI workflow, package, execution environment"
	@echo "make docs   the docs site (antsibull-docs + Sphinx) in build/docsite/build/html"
	@echo "make bench  benchmarks against the simulator (prints a table; asserts nothing)"
	@echo "make simulator  the VergeOS API simulator in the foreground, with the environment to export (Ctrl-C stops it)"
	@echo "make bench-report  verge_billing_report for one month and one year against a uri GET, and a fleet of 40 systems"
	@echo "                   against a uri GET per system (prints ratios; asserts nothing)"

# ---------------------------------------------------------------------------------------------------------------------
# Virtual environments: the newest line with every tool (frozen in tests/requirements-dev.txt), the oldest with the
# test dependencies only.

venv: $(VENV)/.stamp
$(VENV)/.stamp: tests/requirements-dev.txt tests/constraints/ansible-core-$(NEWEST).txt
	@test -n "$(PYTHON)" || { echo "Python $(PY_NEWEST) not found (pyenv install $(PY_NEWEST), or make PYTHON=...)"; exit 1; }
	rm -rf $(VENV) && $(PYTHON) -m venv $(VENV)
	$(call pip_install,$(VENV),-r tests/requirements-dev.txt)
	touch $@

venv-oldest: $(VENV_OLDEST)/.stamp
$(VENV_OLDEST)/.stamp: tests/requirements-$(OLDEST).txt tests/constraints/ansible-core-$(OLDEST).txt
	@test -n "$(PYTHON_OLDEST)" || { echo "Python $(PY_OLDEST) not found (pyenv install $(PY_OLDEST), or make PYTHON_OLDEST=...)"; exit 1; }
	rm -rf $(VENV_OLDEST) && $(PYTHON_OLDEST) -m venv $(VENV_OLDEST)
	$(call pip_install,$(VENV_OLDEST),-r tests/requirements-$(OLDEST).txt)
	touch $@

venv-focus: $(VENV_FOCUS)/.stamp
$(VENV_FOCUS)/.stamp: tests/requirements-focus.txt
	@test -n "$(PYTHON_FOCUS)" || { echo "Python $(PY_FOCUS) not found (pyenv install $(PY_FOCUS), or make PYTHON_FOCUS=...)"; exit 1; }
	rm -rf $(VENV_FOCUS) && $(PYTHON_FOCUS) -m venv $(VENV_FOCUS)
	$(call pip_install,$(VENV_FOCUS),-r tests/requirements-focus.txt)
	touch $@

lock:
	rm -rf $(BUILD)/lockvenv && $(PYTHON) -m venv $(BUILD)/lockvenv
	$(call pip_install,$(BUILD)/lockvenv,-r tests/requirements-dev.in -c tests/constraints/ansible-core-$(NEWEST).txt)
	{ echo '# Frozen from tests/requirements-dev.in with Python $(PY_NEWEST) (pip freeze). Regenerate with `make lock`.'; \
	  echo '# ansible-core comes from its constraints file, so that a bump of its patch release is one line there.'; \
	  echo '-c constraints/ansible-core-$(NEWEST).txt'; echo 'ansible-core'; \
	  $(BUILD)/lockvenv/bin/pip freeze | grep -v '^ansible-core=='; } > tests/requirements-dev.txt

# ---------------------------------------------------------------------------------------------------------------------
# Collection trees and the package

tree:
	@$(call copy_tree,$(TREE))

tree-oldest:
	@$(call copy_tree,$(TREE_OLDEST))

build: venv
	rm -f $(BUILD)/vergeio-billing-*.tar.gz
	$(VENV)/bin/ansible-galaxy collection build --force --output-path $(BUILD) .
	rm -rf $(BUILD)/installed && $(VENV)/bin/ansible-galaxy collection install --force -p $(BUILD)/installed $(TARBALL)

demo: venv build
	ANSIBLE_COLLECTIONS_PATH=$(BUILD)/installed $(PY) tests/demo.py

# ---------------------------------------------------------------------------------------------------------------------
# Tests. `make test` runs the stages of tests/run-all.sh, two at a time; every target below is one stage.

test:
	$(MAKE) -j2 venv venv-oldest
	$(MAKE) delivery-collections
	bash tests/run-all.sh

units: venv tree
	cd $(TREE) && $(VENV)/bin/ansible-test units --local --python $(PY_NEWEST) --color no

units-$(OLDEST): venv-oldest tree-oldest
	cd $(TREE_OLDEST) && $(VENV_OLDEST)/bin/ansible-test units --local --python $(PY_OLDEST) --color no

# The two collections of playbooks/deliver_statements.yml (community.general, amazon.aws), for its test only: unpacked
# from PyPI's ansible package at setup (a package registry), never downloaded by a test.
delivery-collections: $(BUILD)/delivery-collections/.complete
$(BUILD)/delivery-collections/.complete: tests/delivery_collections.py | venv
	$(PY) tests/delivery_collections.py && touch $@

functional: venv tree delivery-collections
	$(PY) -m pytest -q -p no:cacheprovider -n 2 tests/unit_sim
	$(PY) -m pytest -q -p no:cacheprovider -n 2 tests/functional

functional-$(OLDEST): venv-oldest tree-oldest delivery-collections
	$(VENV_OLDEST)/bin/python -m pytest -q -p no:cacheprovider -n 2 tests/unit_sim
	VERGE_TEST_COLLECTIONS=$(COLLECTIONS_OLDEST) VERGE_FAULT_TALLY=$(BUILD)/$(OLDEST)/fault-tally.json \
	  $(VENV_OLDEST)/bin/python -m pytest -q -p no:cacheprovider -n 2 tests/functional

# The FOCUS exports of verge_billing_export against the simulator, checked by the FinOps Foundation's focus-validator
# (run from its own venv) and queried with DuckDB. A tree of its own: the stage runs in the other lane than the newest
# line's stages, which use (and ansible-test writes into) $(TREE).
COLLECTIONS_FOCUS := $(BUILD)/focus/collections
focus: venv venv-focus
	@$(call copy_tree,$(COLLECTIONS_FOCUS)/ansible_collections/vergeio/billing)
	VERGE_TEST_COLLECTIONS=$(COLLECTIONS_FOCUS) VERGE_FOCUS_VENV=$(VENV_FOCUS) $(PY) -m pytest -q -p no:cacheprovider -n 2 tests/focus

integration: venv tree
	$(PY) tests/run_integration.py --venv $(VENV) --tree $(TREE)

integration-$(OLDEST): venv venv-oldest tree-oldest
	$(PY) tests/run_integration.py --venv $(VENV_OLDEST) --tree $(TREE_OLDEST)

sanity: venv tree
	$(call get_pip,$(VENV))
	cd $(TREE) && $(VENV)/bin/ansible-test sanity --venv --requirements --python $(PY_NEWEST) --color no

sanity-$(OLDEST): venv-oldest tree-oldest
	$(call get_pip,$(VENV_OLDEST))
	cd $(TREE_OLDEST) && $(VENV_OLDEST)/bin/ansible-test sanity --venv --requirements --python $(PY_OLDEST) --color no

lint: venv
	$(VENV)/bin/ansible-lint --profile production

docs-lint: venv tree
	cd $(TREE) && PATH=$(VENV)/bin:$$PATH $(VENV)/bin/antsibull-docs lint-collection-docs --plugin-docs .

changelog-lint: venv
	$(VENV)/bin/antsibull-changelog lint

# The forge's CI workflow (it cannot run here): actionlint, with shellcheck on its run: scripts when it is installed.
actionlint: venv
	$(VENV)/bin/actionlint -no-color .github/workflows/*.yml

# The tarball as Galaxy sees it: no development-only file, and galaxy-importer without an error or warning (its
# ansible-test step is off: it needs a container runtime).
package: venv
	$(PY) tests/check_package.py --work $(BUILD)/package --contents --importer

# The unit tests the standard way, from the installed tarball (no galaxy.yml, no git): a fresh venv with the newest
# ansible-core only, then `ansible-test units --requirements`. `make test` runs the newest line's unit tests this way.
units-installed: venv
	$(PY) tests/check_package.py --work $(BUILD)/units-installed --units \
	  --python $(PYTHON) --py-version $(PY_NEWEST) --constraints tests/constraints/ansible-core-$(NEWEST).txt

# The execution environment definition: ansible-builder writes its build context, and its pins are checked.
ee: venv
	rm -rf $(BUILD)/ee && $(VENV)/bin/ansible-builder create -f extras/awx/execution-environment.yml -c $(BUILD)/ee
	$(PY) tests/check_package.py --ee extras/awx/execution-environment.yml --ee-context $(BUILD)/ee --lines $(NEWEST),$(OLDEST)

# The docs site, offline: Sphinx warnings fail it, except intersphinx inventories that cannot be reached (the labels
# of the Ansible docs that the pages use come from tests/docsite_inventory.py then).
docs: venv tree
	rm -rf $(BUILD)/docsite && mkdir -p $(BUILD)/docsite
	PATH=$(VENV)/bin:$$PATH antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir $(BUILD)/docsite vergeio.billing
	@# build.sh's two steps, but Sphinx without -W: its warnings are judged below.
	cd $(BUILD)/docsite && mkdir -p rst && chmod og-w rst && PATH=$(VENV)/bin:$$PATH antsibull-docs --config-file antsibull-docs.cfg \
	  collection --cleanup everything --fail-on-error --use-current --dest-dir rst vergeio.billing
	$(PY) tests/docsite_inventory.py $(BUILD)/docsite/ansible_devel.inv
	cd $(BUILD)/docsite && PATH=$(VENV)/bin:$$PATH sphinx-build -M html rst build -c . -q --keep-going -w warnings.log
	@if grep -v -E 'failed to reach any of the inventories|^intersphinx inventory .* not (fetchable|readable)' $(BUILD)/docsite/warnings.log | grep .; then \
	  echo 'docs: Sphinx warnings above'; exit 1; fi
	@echo "docs: $(BUILD)/docsite/build/html/index.html ($$(grep -c . $(BUILD)/docsite/warnings.log) warning lines, all unreachable intersphinx inventories)"

# The VergeOS API simulator for trying the collection by hand: it prints the environment to export, then serves the
# previous calendar month and the current one (hourly records and tenant statistics) until Ctrl-C.
# Options go in SIMULATOR_ARGS, for example: make simulator SIMULATOR_ARGS='--port 8443 --tenants 20 --seed 7'.
SIMULATOR_ARGS ?=
simulator: venv
	@mkdir -p $(BUILD)/simulator
	$(PY) tests/simulator/vergeos_sim.py --print-env --cert-dir $(BUILD)/simulator $(SIMULATOR_ARGS)

bench: venv tree
	$(PY) tests/bench/bench.py

bench-report: venv tree
	$(PY) tests/bench/bench_report.py
	$(PY) tests/bench/bench_fleet.py

clean:
	rm -rf $(BUILD) tests/output .pytest_cache
