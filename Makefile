# dl-homework: one virtual environment in .venv/, made from requirements.txt on first use.
#   make demo    the instructor demo: release the four homeworks, grade sample submissions in the
#                sandbox (references, blanks, bugs, attacks), print the grades (the main job)
#   make verify  run every reference solution and check it against PyTorch
#   make test    lint, format check and the whole pytest suite (what CI runs)
#   make bench   benchmarks (a report, not a test)
#   make notebooks  regenerate the nbgrader source notebooks in assignments/ from solutions/
#   make release    generate the student versions into release/ (git-ignored) with nbgrader
#   EDITION=ru      (demo, release) the Russian edition: assignments/ru/, lectures/ru/, Russian messages

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv demo verify test lint format bench notebooks release clean sandbox postgres chromium lectures

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 needed, found {sys.version.split()[0]}: set PYTHON=/path/to/python3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --editable .
	@touch $@

# make demo EDITION=ru: the Russian edition (not LANG=ru, which would also change the locale)
EDITION ?= en
demo: venv sandbox
	$(BIN)/python -m autograder demo --lang $(EDITION)

verify: venv
	$(BIN)/python -m solutions.verify

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint sandbox postgres chromium
	$(BIN)/python -m pytest

# the grader's sandbox needs bubblewrap (Debian/Ubuntu package); installed here when missing and
# possible (root with apt), else the sandbox tests are skipped and the grader says what is missing
sandbox:
	@command -v bwrap >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get install -y -qq bubblewrap >/dev/null 2>&1 || \
	   (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq bubblewrap >/dev/null 2>&1)) ; } || \
	  echo "bubblewrap is not installed and cannot be installed here: the sandbox tests will be skipped"

# the PostgreSQL gradebook tests (tests/test_postgres.py) start a throwaway server from Debian's
# postgresql package; installed here when missing and possible, else those tests are skipped
postgres:
	@{ command -v initdb || ls /usr/lib/postgresql/*/bin/initdb ; } >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1 || \
	   (apt-get update -qq >/dev/null 2>&1 && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1)) ; } || \
	  echo "PostgreSQL (initdb) is not installed and cannot be installed here: the PostgreSQL gradebook tests will be skipped"

# the browser tests of the feedback and report pages (tests/test_feedback.py) drive a headless
# Chromium from Debian's chromium package; installed here when missing and possible, else those
# tests are skipped
chromium:
	@command -v chromium >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 || \
	   (apt-get update -qq >/dev/null 2>&1 && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1)) ; } || \
	  echo "Chromium is not installed and cannot be installed here: the browser tests will be skipped"

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: venv
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

notebooks: venv
	$(BIN)/python -m autograder.build

# make release EDITION=ru: the Russian edition, from assignments/ru/ into release/ru/
RELEASE_FLAGS := $(if $(filter-out en,$(EDITION)),--CourseDirectory.source_directory=assignments/$(EDITION) --CourseDirectory.release_directory=release/$(EDITION) --CourseDirectory.db_url=sqlite:///$(abspath build)/gradebook-$(EDITION).db)
RELEASE_DIR := release$(if $(filter-out en,$(EDITION)),/$(EDITION))
LECTURE_DIR := lectures$(if $(filter-out en,$(EDITION)),/$(EDITION))
release: venv
	@mkdir -p build
	@for a in $$($(BIN)/python -m autograder.registry); do PATH="$(abspath $(BIN)):$$PATH" $(BIN)/nbgrader generate_assignment $$a --force $(RELEASE_FLAGS) || exit 1; done
	$(BIN)/python -m autograder.release $(RELEASE_DIR) $(LECTURE_DIR)
	@echo "student versions in $(RELEASE_DIR)/"

clean:
	rm -rf $(VENV) build release .pytest_cache .ruff_cache

# the lecture notebooks, executed (their `# checks` cells too) and rendered to build/lectures/*.html
# without the checks cells, with MathJax copied beside them so that the maths shows offline
lectures: venv
	$(BIN)/python lectures/render.py --output-dir build/lectures
