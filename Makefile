# The two entry points README.md starts with. Each does all set-up itself.
SWIFT ?= swift
RULEBOOK_RELEASE := .build/release/rulebook
RULEBOOK_DEBUG := .build/debug/rulebook

.PHONY: deps demo test test-steps memcheck release bench bench-smoke fuzz fuzz-smoke sanitizers pictures api-check \
	install-build man completions install install-files uninstall deb deb-check install-check deb-check-chroot guide-check print-version screenshots browser-check

deps:
	@scripts/install-deps

release: deps
	$(SWIFT) build -c release --product rulebook

## Runs Rulebook on the shipped policies: validate, test, and what must happen next on
## each example incident.
demo: release
	scripts/demo $(RULEBOOK_RELEASE)

## Runs every test: unit, end-to-end (the built binary), the shipped policies against
## the JSON Schema and the validator, the leak check, every command of the user guides,
## the web pages in headless Chromium (with axe-core),
## and the installed program and the Debian package (a release build and a Debian
## chroot: about 7 minutes). All of it beside a throw-away PostgreSQL cluster on
## loopback (scripts/with-postgres), for the PostgreSQL register's tests.
test: deps
	scripts/with-postgres $(MAKE) --no-print-directory test-steps

test-steps:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	python3 -m check_jsonschema --schemafile Schemas/policy.schema.json Policies/*.yaml
	python3 -m check_jsonschema --schemafile Schemas/calendar.schema.json Policies/calendars/*.yaml
	$(RULEBOOK_DEBUG) validate --hide-notes Policies/
	if [ -d Policies/tests ]; then $(RULEBOOK_DEBUG) test; fi
	$(RULEBOOK_DEBUG) coverage >/dev/null
	scripts/memcheck $(RULEBOOK_DEBUG)
	scripts/api-check $(RULEBOOK_DEBUG)
	scripts/guide-check $(RULEBOOK_DEBUG)
	scripts/browser-check $(RULEBOOK_DEBUG)
	$(MAKE) --no-print-directory deb-check
	$(MAKE) --no-print-directory bench-smoke
	$(MAKE) --no-print-directory sanitizers
	$(MAKE) --no-print-directory fuzz-smoke

## The web pages in headless Chromium (Selenium): the flows, axe-core on every page.
browser-check: deps
	$(SWIFT) build --product rulebook
	scripts/browser-check $(RULEBOOK_DEBUG)

## The screenshots README.md shows (docs/screenshots), taken by the browser tests.
screenshots: deps
	$(SWIFT) build --product rulebook
	RULEBOOK_SCREENSHOTS=docs/screenshots scripts/browser-check $(RULEBOOK_DEBUG) --ignore=Tests/browser/test_harness_selfcheck.py

## The whole test suite again under AddressSanitizer, then the suites where threads meet
## under ThreadSanitizer: the batch workers, the register's writers and readers, the
## server, its notifier and pages, and every rulebook process those tests start. The
## single-threaded suites (the language, the validator, the renderers) run under ASan
## only: under TSan they took ten of CI's minutes and can race with nothing.
## LeakSanitizer is off: Swift keeps enum tags in pointers' spare bits, which it reads
## as leaks; scripts/memcheck checks leaks with valgrind.
TSAN_SUITES ?= BatchTests|DurabilityTests|RulebookRegisterTests|RegisterCLITests|RegisterIntegrityCLITests|ServeCLITests|ServeFaultTests|ServeNotifierTests|NotifyCLITests|ReminderCLITests|PagesCLITests|PostgresCLITests
sanitizers:
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS=halt_on_error=1 $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan --filter '$(TSAN_SUITES)'

## Every fuzz target for 30 seconds on the committed corpus, two at a time (CI), so the
## targets cannot rot; a finding fails it.
fuzz-smoke:
	JOBS=2 scripts/fuzz 30

## The whole benchmark comparison (release, static executables; about ten minutes):
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

## Installing, like any other program: the release binary (its Swift runtime linked in
## statically; libyaml, libsqlite3 and libcrypto are the system's), the shipped policies
## as read-only data, the JSON Schemas, man pages and shell completions.
##   make install [PREFIX=/usr/local] [DESTDIR=]    make uninstall [PREFIX=...]
## The binary finds PREFIX/share/rulebook/Policies from its own location, so PREFIX is
## not built in. The build is kept in .build-release, apart from `make release`'s.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(PREFIX)/bin
DATADIR := $(PREFIX)/share/rulebook
MANDIR := $(PREFIX)/share/man
DOCDIR := $(PREFIX)/share/doc/rulebook
BASH_COMPLETIONS := $(PREFIX)/share/bash-completion/completions
ZSH_COMPLETIONS := $(PREFIX)/share/zsh/site-functions
FISH_COMPLETIONS := $(PREFIX)/share/fish/vendor_completions.d
INSTALL ?= install

## The version is written once, in Sources/RulebookCLI/Rulebook.swift; the build records
## the commit (with -modified when the tree has uncommitted changes) and the day, which
## `rulebook --version` prints. SOURCE_DATE_EPOCH, when set, is the build day.
VERSION := $(shell sed -n 's/^ *static let version = "\([^"]*\)".*/\1/p' Sources/RulebookCLI/Rulebook.swift)
BUILD_COMMIT ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)$(shell git diff --quiet HEAD -- 2>/dev/null || echo -modified)
BUILD_DATE ?= $(shell date -u -d "@$${SOURCE_DATE_EPOCH:-$$(date +%s)}" +%Y-%m-%d)
RELEASE_SCRATCH := .build-release
RULEBOOK_INSTALL_BINARY := $(RELEASE_SCRATCH)/release/rulebook
## Linked with full RELRO (-z relro -z now), as Debian's hardening flags ask.
RELEASE_BUILD = RULEBOOK_BUILD_COMMIT=$(BUILD_COMMIT) RULEBOOK_BUILD_DATE=$(BUILD_DATE) \
	$(SWIFT) build -c release -Xswiftc -static-stdlib -Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now \
	--scratch-path $(RELEASE_SCRATCH)

print-version:
	@echo $(VERSION)

install-build: deps
	$(RELEASE_BUILD) --product rulebook

## Man pages generated from the commands (scripts/man-pages), and the hand-written man/*.5.
man: install-build
	scripts/man-pages $(RULEBOOK_INSTALL_BINARY) $(RELEASE_SCRATCH)/man $(BUILD_DATE)

## Shell completions from ArgumentParser, with the binary's own completers for policy
## ids and incident numbers. bash-completion sources its file: no #! line.
completions: install-build
	mkdir -p $(RELEASE_SCRATCH)/completions
	for shell in bash zsh fish; do $(RULEBOOK_INSTALL_BINARY) --generate-completion-script $$shell > $(RELEASE_SCRATCH)/completions/rulebook.$$shell; done
	sed -i '1{/^#!/d}' $(RELEASE_SCRATCH)/completions/rulebook.bash

install: install-build man completions
	$(MAKE) --no-print-directory install-files

## What `make install` copies, from what the three targets above made.
install-files:
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(DATADIR)/Schemas \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(BASH_COMPLETIONS) $(DESTDIR)$(ZSH_COMPLETIONS) $(DESTDIR)$(FISH_COMPLETIONS)
	$(INSTALL) -m 0755 $(RULEBOOK_INSTALL_BINARY) $(DESTDIR)$(BINDIR)/rulebook
	rm -rf $(DESTDIR)$(DATADIR)/Policies
	cp -R Policies $(DESTDIR)$(DATADIR)/Policies
	chmod -R u=rwX,go=rX $(DESTDIR)$(DATADIR)/Policies
	$(INSTALL) -m 0644 Schemas/*.json Schemas/openapi.yaml $(DESTDIR)$(DATADIR)/Schemas/
	$(INSTALL) -m 0644 $(RELEASE_SCRATCH)/man/man1/*.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 $(RELEASE_SCRATCH)/man/man5/*.5 $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 $(RELEASE_SCRATCH)/completions/rulebook.bash $(DESTDIR)$(BASH_COMPLETIONS)/rulebook
	$(INSTALL) -m 0644 $(RELEASE_SCRATCH)/completions/rulebook.zsh $(DESTDIR)$(ZSH_COMPLETIONS)/_rulebook
	$(INSTALL) -m 0644 $(RELEASE_SCRATCH)/completions/rulebook.fish $(DESTDIR)$(FISH_COMPLETIONS)/rulebook.fish
	rm -rf $(DESTDIR)$(DOCDIR)/guide
	$(INSTALL) -d $(DESTDIR)$(DOCDIR)/guide
	$(INSTALL) -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 0644 docs/guide/*.md $(DESTDIR)$(DOCDIR)/guide/

## Removes what `make install` put under the same PREFIX (and DESTDIR).
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/rulebook
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)
	rm -f $(DESTDIR)$(MANDIR)/man1/rulebook.1 $(DESTDIR)$(MANDIR)/man1/rulebook-*.1
	rm -f $(DESTDIR)$(MANDIR)/man5/rulebook-policy.5 $(DESTDIR)$(MANDIR)/man5/rulebook-case.5
	rm -f $(DESTDIR)$(BASH_COMPLETIONS)/rulebook $(DESTDIR)$(ZSH_COMPLETIONS)/_rulebook $(DESTDIR)$(FISH_COMPLETIONS)/rulebook.fish

## `make install` into a scratch folder, checked: each man page renders without a
## warning, the installed binary finds its installed policies, then `make uninstall`
## leaves nothing behind.
install-check: install-build man completions
	scripts/install-check

## The Debian package, rulebook_VERSION_amd64.deb (scripts/make-deb, packaging/debian/).
deb: install-build man completions
	scripts/make-deb $(VERSION)

## The package built, linted, installed into a scratch root with dpkg and used there,
## its unit verified and its server started as the unit starts it; then installed with
## apt into a fresh Debian chroot and its service booted under systemd there; `make
## install` checked too (scripts/install-check).
deb-check: deb install-check
	scripts/deb-check rulebook_$(VERSION)_$$(dpkg --print-architecture).deb
	scripts/deb-check-chroot rulebook_$(VERSION)_$$(dpkg --print-architecture).deb

## The package in a fresh Debian 12 chroot (debootstrap minbase from the mirror): apt
## installs it with exactly its declared dependencies, and the installed rulebook answers
## --version, validate, test and next; then, systemd added, the chroot is booted as a
## container and rulebook.service must start, hardened, and answer /health (about 90 s).
## Part of deb-check.
deb-check-chroot: deb
	scripts/deb-check-chroot rulebook_$(VERSION)_$$(dpkg --print-architecture).deb

## Every command of the user guides in docs/guide/, run in order in a scratch folder.
guide-check:
	$(SWIFT) build --product rulebook
	scripts/guide-check $(RULEBOOK_DEBUG)
