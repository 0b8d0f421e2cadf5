# Tessera — build, test, demo, install, benchmark.
# On a fresh Debian 12 machine `make demo` and `make test` are all the set-up there is:
# `make deps` installs GDAL and friends from Debian when they are missing.

SWIFT    ?= swift
PREFIX   ?= /usr/local
RELEASE  := .build/release/tessera
APT_PACKAGES := libgdal-dev libproj-dev libtiff-dev libgif-dev gdal-bin python3-gdal pkg-config
# Root installs directly (CI, containers); anyone else goes through sudo.
# Debian's python3, which has GDAL's bindings (python3-gdal), whatever python3 is first on PATH.
PYTHON_GDAL := /usr/bin/python3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all help deps build test test-deps test-slurm fuzz sanitize stress demo options-table install bench bench-deps bench-large clean

all: build

# Every target with a `## ` line after its name, with that line.
help: ## list the targets
	@awk -F':.*## ' '/^[a-z-]+:.*## / { printf "  make %-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

# Installs those of the Debian packages $(1) that are missing; otherwise runs $(2).
define apt_install
missing=""; for p in $(1); do \
  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
done; \
if [ -n "$$missing" ]; then \
  echo "make $@: installing$$missing"; \
  $(SUDO) apt-get update -qq && \
  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
else \
  $(2); \
fi
endef

deps: ## install GDAL, PROJ, libtiff, giflib and GDAL's tools from Debian when missing
	@$(call apt_install,$(APT_PACKAGES),echo "make deps: GDAL $$(pkg-config --modversion gdal) and its tools are installed")

# Two programs: tessera-engine (the tool) and tessera, a small static launcher that starts it
# with the signals blocked until its handlers exist (Sources/tessera/main.c).
build: deps ## build tessera and tessera-engine (release) into .build/release
	$(SWIFT) build -c release --product tessera-engine
	$(SWIFT) build -c release --product tessera

# What only the tests need: ffmpeg, for timelapse's MP4 test (without it that half is skipped), and
# python3-jsonschema, with which Tools/validate-json.py checks every --json output against
# docs/schemas/.
TEST_APT_PACKAGES := ffmpeg python3-jsonschema
test-deps: deps ## install what only the tests need (ffmpeg, python3-jsonschema)
	@$(call apt_install,$(TEST_APT_PACKAGES),true)

# The XCTest suite in TEST_WORKERS parallel processes, one a test class (Tools/run-tests.py; logs
# in .build/test-logs). One class alone: swift test --skip-build --disable-swift-testing --filter NAME
TEST_WORKERS ?= 3
test: test-deps ## install what is missing, build and run every test in parallel (what CI runs first)
	$(SWIFT) build --build-tests
	$(PYTHON_GDAL) Tools/run-tests.py --workers $(TEST_WORKERS)

# tessera batch under a real one-node Slurm cluster (root; installs Slurm and munge if missing).
test-slurm: deps ## run tessera batch under a real one-node Slurm cluster (root; CI runs it second)
	$(SWIFT) build --product tessera-engine
	$(SWIFT) build --product tessera
	Tools/slurm-test.sh

# libFuzzer on the readers of untrusted text and bytes (Sources/TesseraFuzz): each target runs
# FUZZ_SECONDS (default 600) from its committed seeds in Fuzz/corpus/TARGET, new inputs kept in
# .build-fuzz/corpus/TARGET, findings written to .build-fuzz/findings/.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= expression expression-deep tiff mtd manifest stretch color-table categorical
fuzz: deps ## libFuzzer on the readers of untrusted input (FUZZ_SECONDS per target)
	TESSERA_FUZZ=1 $(SWIFT) build --product TesseraFuzz --scratch-path .build-fuzz \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
	@mkdir -p .build-fuzz/findings
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p .build-fuzz/corpus/$$t; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  FUZZ_TARGET=$$t .build-fuzz/debug/TesseraFuzz .build-fuzz/corpus/$$t Fuzz/corpus/$$t \
	    -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
	    -artifact_prefix=.build-fuzz/findings/$$t- 2>&1 | grep -E "^#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec|ERROR|SUMMARY" || exit 1; \
	done

# The whole test suite under AddressSanitizer, then ThreadSanitizer (each its own build).
sanitize: deps ## the test suite under AddressSanitizer, then ThreadSanitizer
	TESSERA_SANITIZE=1 $(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	TESSERA_SANITIZE=1 LSAN_OPTIONS=suppressions=$(CURDIR)/Tools/lsan.supp:print_suppressions=0 $(SWIFT) test --skip-build --disable-swift-testing --sanitize=address --scratch-path .build-asan
	TESSERA_SANITIZE=1 $(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	TESSERA_SANITIZE=1 $(SWIFT) test --skip-build --disable-swift-testing --sanitize=thread --scratch-path .build-tsan

# Signals at random moments of every writing subcommand and of batch (STRESS_TRIALS of each of
# SIGINT, SIGTERM, SIGHUP per command), then full disks (a filling tmpfs, RLIMIT_FSIZE). Root for
# the tmpfs. About 40 minutes on 2 cores; Tools/stress.py --help for a shorter run.
STRESS_TRIALS ?= 50
stress: build ## signals at random moments and full disks for every writing command (~40 min)
	$(PYTHON_GDAL) Tools/stress.py --trials $(STRESS_TRIALS)

DEMO_DIR ?= .demo
# TESSERA=PATH runs the demo with that binary and builds nothing (the tests give .build/debug/tessera).
TESSERA ?=
demo: $(if $(TESSERA),,build) ## every part of the job on the bundled data, one line a step (outputs in .demo/)
	@TESSERA=$(or $(TESSERA),$(RELEASE)) DEMO_DIR=$(DEMO_DIR) PYTHON_GDAL=$(PYTHON_GDAL) sh Tools/demo.sh

# The README's "Options shared by commands" table, from the commands' declarations (their
# --experimental-dump-help), between its markers; SharedOptionsTests fails when it is stale.
options-table: ## regenerate the README's table of options shared by commands (debug build)
	$(SWIFT) build --product tessera-engine
	$(SWIFT) build --product tessera
	$(PYTHON_GDAL) Tools/options_table.py --tessera .build/debug/tessera --write README.md

install: build ## install into PREFIX (default /usr/local), with shell completions
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/tessera
	install -m 755 $(RELEASE)-engine $(DESTDIR)$(PREFIX)/libexec/tessera/tessera-engine
	install -m 755 $(RELEASE) $(DESTDIR)$(PREFIX)/bin/tessera
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	           $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	           $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	$(RELEASE) --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/tessera
	$(RELEASE) --generate-completion-script zsh  > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_tessera
	$(RELEASE) --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/tessera.fish

# Benchmarks: Tessera against GDAL's tools and rasterio on generated data (Benchmarks/data,
# reused across runs). BENCH_SIZE=1024 BENCH_RUNS=1 is the one-minute smoke run.
BENCH_SIZE ?= 5490
BENCH_RUNS ?= 3
bench-deps: deps ## install GNU time for the benchmarks
	@dpkg-query -W -f='$${Status}' time 2>/dev/null | grep -q "install ok installed" || \
	  { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends time; }

bench: build bench-deps ## Tessera against GDAL's tools and rasterio (BENCH_SIZE, BENCH_RUNS)
	cd Benchmarks && /usr/bin/python3 bench.py --size $(BENCH_SIZE) --runs $(BENCH_RUNS)

bench-large: build bench-deps ## the large-raster benchmark rows
	cd Benchmarks && /usr/bin/python3 bench.py --large --runs 1

clean: ## remove the build and the demo's outputs
	rm -rf .build $(DEMO_DIR)
