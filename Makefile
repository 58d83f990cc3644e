# The two entry points README.md starts with. Each does all set-up itself.
SWIFT ?= swift
RULEBOOK_RELEASE := .build/release/rulebook
RULEBOOK_DEBUG := .build/debug/rulebook

.PHONY: deps demo test memcheck release

deps:
	@scripts/install-deps

release: deps
	$(SWIFT) build -c release --product rulebook

## Runs Rulebook on the shipped policies: validate, test, and what must happen next on
## each example incident.
demo: release
	scripts/demo $(RULEBOOK_RELEASE)

## Runs every test: unit, end-to-end (the built binary), the shipped policies against
## the JSON Schema and the validator, and the leak check.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	python3 -m check_jsonschema --schemafile Schemas/policy.schema.json Policies/*.yaml
	$(RULEBOOK_DEBUG) validate --hide-notes Policies/
	if [ -d Policies/tests ]; then $(RULEBOOK_DEBUG) test; fi
	scripts/memcheck $(RULEBOOK_DEBUG)

## libyaml memory is freed on every path (valgrind).
memcheck: deps
	$(SWIFT) build --product rulebook
	scripts/memcheck $(RULEBOOK_DEBUG)
