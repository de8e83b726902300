# vergeio.billing: `make demo` shows it working, `make test` runs every test. Both set themselves up.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := $(CURDIR)/.venv
VENV216 := $(CURDIR)/.venv-2.16
BUILD := $(CURDIR)/build
COLLECTIONS := $(BUILD)/collections
TREE := $(COLLECTIONS)/ansible_collections/vergeio/billing
PY := $(VENV)/bin/python
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_FORCE_COLOR := 0
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help demo test venv venv-2.16 tree build units units-2.16 functional integration integration-2.16 sanity lint docs-lint changelog-lint bench bench-report lock clean

help:
	@echo "make demo   set up, start the VergeOS API simulator, run the demo playbook, stop"
	@echo "make test   every test: unit, functional, integration, sanity, lint, docs, changelog (newest ansible-core and 2.16)"
	@echo "make bench  benchmarks against the simulator (prints a table; asserts nothing)"
	@echo "make bench-report  verge_billing_report for one month and one year against a uri GET (prints ratios; asserts nothing)"

venv: $(VENV)/.stamp
$(VENV)/.stamp: tests/requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/requirements-dev.txt 2>&1 | { grep -v 'neither a file nor a directory' || true; }; test $${PIPESTATUS[0]} -eq 0
	touch $@

venv-2.16: $(VENV216)/.stamp
$(VENV216)/.stamp: tests/requirements-2.16.txt
	$(PYTHON) -m venv $(VENV216)
	$(VENV216)/bin/pip install --quiet --disable-pip-version-check -r tests/requirements-2.16.txt 2>&1 | { grep -v 'neither a file nor a directory' || true; }; test $${PIPESTATUS[0]} -eq 0
	touch $@

# ansible-test wants the collection under ansible_collections/NAMESPACE/NAME: copy the tracked and new files there.
tree:
	@rm -rf $(TREE) && mkdir -p $(TREE)
	@git ls-files -z --cached --others --exclude-standard | xargs -0 -r sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh \
	  | tar --null -T - -cf - | tar -xf - -C $(TREE)
	@# build/ is ignored by this repo's git, so give the copy a git index of its own for ansible-test to list files from.
	@cd $(TREE) && git init -q && git add -A

build: venv
	rm -f $(BUILD)/vergeio-billing-*.tar.gz
	$(VENV)/bin/ansible-galaxy collection build --force --output-path $(BUILD) .
	$(VENV)/bin/ansible-galaxy collection install --force -p $(BUILD)/installed $(BUILD)/vergeio-billing-*.tar.gz

demo: venv build
	ANSIBLE_COLLECTIONS_PATH=$(BUILD)/installed $(PY) tests/demo.py

test: venv venv-2.16 tree
	bash tests/run-all.sh

units: venv tree
	cd $(TREE) && $(VENV)/bin/ansible-test units --local --python 3.11 --color no

units-2.16: venv-2.16 tree
	cd $(TREE) && $(VENV216)/bin/ansible-test units --local --python 3.11 --color no

functional: venv tree
	$(PY) -m pytest -q -p no:cacheprovider -n 2 tests/unit_sim
	$(PY) -m pytest -q -p no:cacheprovider -n 2 tests/functional

integration: venv tree
	$(PY) tests/run_integration.py --venv $(VENV) --tree $(TREE)

integration-2.16: venv venv-2.16 tree
	$(PY) tests/run_integration.py --venv $(VENV216) --tree $(TREE)

# ansible-test bootstraps pip in its sanity venvs with a get-pip.py from its own file host, which is not reachable
# here: tests/sanity/get_pip.py stands in for it (see the file), then the sanity requirements come from PyPI.
sanity: venv tree
	mkdir -p $(HOME)/.ansible/test/cache && cp tests/sanity/get_pip.py $(HOME)/.ansible/test/cache/get_pip_24_2.py
	cd $(TREE) && $(VENV)/bin/ansible-test sanity --venv --requirements --python 3.11 --color no

lint: venv
	$(VENV)/bin/ansible-lint --profile production

docs-lint: venv tree
	cd $(TREE) && PATH=$(VENV)/bin:$$PATH $(VENV)/bin/antsibull-docs lint-collection-docs --plugin-docs .

changelog-lint: venv
	$(VENV)/bin/antsibull-changelog lint

bench: venv tree
	$(PY) tests/bench/bench.py

bench-report: venv tree
	$(PY) tests/bench/bench_report.py

lock:
	$(PYTHON) -m venv $(BUILD)/lockvenv && $(BUILD)/lockvenv/bin/pip install -q -r tests/requirements-dev.in \
	  && { echo '# Frozen from tests/requirements-dev.in (pip freeze). Regenerate with `make lock`.'; $(BUILD)/lockvenv/bin/pip freeze; } > tests/requirements-dev.txt

clean:
	rm -rf $(BUILD) tests/output .pytest_cache
