# PureBoot developer targets (the lead merges these with the others).
VENV ?= $(CURDIR)/.venv
PY ?= $(VENV)/bin/python

.PHONY: fuzz
fuzz:  ## schemathesis over the whole OpenAPI spec against a live controller (FUZZ_MAX_EXAMPLES=50)
	PATH=$(VENV)/bin:$$PATH VIRTUAL_ENV=$(VENV) scripts/fuzz.sh
