# The two entry points README.md starts with. Each does all set-up itself.
SWIFT ?= swift
RULEBOOK_RELEASE := .build/release/rulebook
RULEBOOK_DEBUG := .build/debug/rulebook

.PHONY: deps demo test memcheck release bench bench-smoke fuzz fuzz-smoke sanitizers pictures api-check

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
	python3 -m check_jsonschema --schemafile Schemas/calendar.schema.json Policies/calendars/*.yaml
	$(RULEBOOK_DEBUG) validate --hide-notes Policies/
	if [ -d Policies/tests ]; then $(RULEBOOK_DEBUG) test; fi
	$(RULEBOOK_DEBUG) coverage >/dev/null
	scripts/memcheck $(RULEBOOK_DEBUG)
	scripts/api-check $(RULEBOOK_DEBUG)
	$(MAKE) --no-print-directory bench-smoke
	$(MAKE) --no-print-directory sanitizers
	$(MAKE) --no-print-directory fuzz-smoke

## The whole test suite again under AddressSanitizer, then under ThreadSanitizer (the
## batch workers, the register's writers and readers run in it, and so does every
## rulebook process the CLI tests start). LeakSanitizer is off: Swift keeps enum tags in
## pointers' spare bits, which it reads as leaks; scripts/memcheck checks leaks with valgrind.
sanitizers:
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS=halt_on_error=1 $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan

## Every fuzz target for 30 seconds on the committed corpus, two at a time (CI), so the
## targets cannot rot; a finding fails it.
fuzz-smoke:
	JOBS=2 scripts/fuzz 30

## The whole benchmark comparison (release, Swift runtime linked in; about ten minutes):
## Rulebook's six benchmarks and the peer engines from PyPI, one table at the end.
bench: deps
	scripts/bench

## Every fuzz target for SECONDS each (default 60) on the committed corpus, with
## AddressSanitizer; prints executions, coverage and findings (scripts/fuzz).
SECONDS ?= 60
fuzz: deps
	JOBS=$(or $(JOBS),1) scripts/fuzz $(SECONDS)

## The pictures the README shows, made from the shipped policies so they never go stale.
pictures: deps
	$(SWIFT) build --product rulebook
	mkdir -p docs/pictures
	for p in school-procedure madras; do $(RULEBOOK_DEBUG) graph $$p --format dot | dot -Tsvg -o docs/pictures/$$p-procedure.svg; done
	$(RULEBOOK_DEBUG) timeline Policies/examples/madras-foi-disclosure.yaml --at 2026-11-03T10:00:00Z > docs/pictures/madras-foi-disclosure-timeline.svg
	rm -f .build/pictures.sqlite
	for f in Policies/examples/*.yaml; do $(RULEBOOK_DEBUG) import $$f --register .build/pictures.sqlite --school "$$(basename $$f .yaml | cut -d- -f1)" >/dev/null; done
	$(RULEBOOK_DEBUG) report --register .build/pictures.sqlite --at 2026-11-10T09:00:00Z --charts .build/pictures-report >/dev/null
	cp .build/pictures-report/duties.svg docs/pictures/report-duties.svg

## A short run of every benchmark and of the peer comparison, on the debug build, so
## they cannot rot (CI). Its figures mean nothing and nothing asserts a time.
bench-smoke:
	.build/debug/rulebook-bench all --smoke --out .build/bench-smoke >/dev/null
	python3 Benchmarks/peers/peers.py --smoke --out .build/bench-smoke --rulebook $(RULEBOOK_DEBUG)

## libyaml memory is freed on every path (valgrind).
memcheck: deps
	$(SWIFT) build --product rulebook
	scripts/memcheck $(RULEBOOK_DEBUG)

## The running server against Schemas/openapi.yaml with schemathesis (part of make test).
api-check: deps
	$(SWIFT) build --product rulebook
	scripts/api-check $(RULEBOOK_DEBUG) $(or $(EXAMPLES),100)
