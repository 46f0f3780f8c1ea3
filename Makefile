# FID Studio — one command each for a fresh clone:
#   make run    set up .venv (runtime + model build) and open the app
#   make test   set up .venv (runtime + dev tools + model) and run the test suite
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup setup-dev model vocab run test test-slow bench bundle selftest-bundle deb clean

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

# CLIP's tokenizer vocabulary (CLIPScore) in this source folder, where the tests find it
vocab: $(STAMP)
	@test -f models/clip_bpe_vocab.txt.gz || $(PY) main.py model vocab --out models/clip_bpe_vocab.txt.gz

run: setup
	$(PY) main.py

# The default tier; `make test-slow` runs the heavy end-to-end checks (full-size models, Ray
# clusters, the pip package) that .ci/run adds after it.
test: setup vocab
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

test-slow: setup vocab
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m slow

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
