# FID Studio — one command each for a fresh clone:
#   make run    set up .venv (runtime + model build) and open the app
#   make test   set up .venv (runtime + dev tools + model) and run the test suite
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup setup-dev model run test test-tools bench bundle selftest-bundle deb clean

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found; set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP) model
setup-dev: setup

model: $(STAMP)
	@$(PY) -c "import models, sys; sys.exit(0 if models.find_model() else 1)" 2>/dev/null \
	  || $(PY) main.py model build

run: setup
	$(PY) main.py

# The PDF report tests read the PDFs back with poppler's pdftotext/pdfinfo; without them they
# would be skipped silently, so the test target asks for them (ALLOW_SKIP=1 runs anyway).
test-tools:
	@command -v pdftotext >/dev/null && command -v pdfinfo >/dev/null || { \
	  if [ "$(ALLOW_SKIP)" = 1 ]; then echo "note: poppler-utils missing: the 3 PDF tests will be skipped"; \
	  else echo "make test needs poppler-utils (pdftotext, pdfinfo) for the PDF tests:"; \
	       echo "    sudo apt-get install poppler-utils     (or: make test ALLOW_SKIP=1 to skip them)"; exit 1; fi; }

test: setup test-tools
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: setup
	$(PY) bench/run_bench.py

bundle: setup
	SKIP_SELFTEST=1 bash packaging/build_bundle.sh

selftest-bundle: setup
	bash packaging/build_bundle.sh

deb: bundle
	bash packaging/build_deb.sh

clean:
	rm -rf build dist packaging/out
