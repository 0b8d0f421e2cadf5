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

.PHONY: all help deps build test test-deps test-slurm fuzz sanitize stress demo install bench bench-deps bench-large clean

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
demo: build ## the main jobs on the bundled data
	@mkdir -p $(DEMO_DIR)
	@echo "== 1. describe a Landsat scene (rasterio's RGB.byte.tif), with exact statistics"
	$(RELEASE) info Fixtures/rasterio/RGB.byte.tif --stats
	@echo
	@echo "== 2. mosaic its four quadrants back into one raster (later inputs win; nodata never does)"
	$(RELEASE) mosaic 'Fixtures/rasterio/rgb?.tif' -o $(DEMO_DIR)/rgb-mosaic.tif --overwrite
	@echo
	@echo "== 3. reproject it to CGCS2000, bilinear"
	$(RELEASE) reproject $(DEMO_DIR)/rgb-mosaic.tif $(DEMO_DIR)/rgb-cgcs2000.tif --dst-crs cgcs2000 --resampling bilinear --overwrite
	@echo
	@echo "== 4. export a Cloud Optimized GeoTIFF (the final copy), then validate it"
	$(RELEASE) cog-export $(DEMO_DIR)/rgb-cgcs2000.tif $(DEMO_DIR)/rgb-cog.tif --profile zstd --overwrite
	$(RELEASE) validate-cog $(DEMO_DIR)/rgb-cog.tif
	@echo
	@echo "== 5. the report a script would read"
	$(RELEASE) info $(DEMO_DIR)/rgb-cog.tif --json | head -40
	@echo
	@echo "== 6. Sentinel-2: two L2A tiles on either side of the UTM 32/33 boundary (synthetic, with the real"
	@echo "==    SAFE structure, from Tools/s2products.py), merged through in-memory staging to a validated COG"
	$(PYTHON_GDAL) Tools/s2products.py $(DEMO_DIR)/s2 --scenario zones --size 600 --bands B02,B03,B04,B08,SCL > /dev/null
	$(RELEASE) merge-memfile $(DEMO_DIR)/s2/*.SAFE -o $(DEMO_DIR)/s2-merged.tif --bands B02,B03,B04,B08 \
	  --reflectance --mask-clouds --cog --report $(DEMO_DIR)/s2-report.json --overwrite
	$(RELEASE) validate-cog $(DEMO_DIR)/s2-merged.tif
	$(RELEASE) validate-merge $(DEMO_DIR)/s2-merged.tif --expect-bands B02,B03,B04,B08 --expect-crs EPSG:32632 \
	  --expect-resolution 10 --min-valid-fraction 0.5 --against $(DEMO_DIR)/s2-report.json
	@echo
	@echo "== 7. its report (products, grid, bands, overlap, staging), as --report wrote it"
	@$(PYTHON_GDAL) -c 'import json,sys; r=json.load(open(sys.argv[1])); \
	  r["products"]=[{k: p[k] for k in ("id","tile","processing_baseline","offset_applied","reprojected")} for p in r["products"]]; \
	  [r.pop(k) for k in ("outputs","warnings")]; print(json.dumps(r, indent=1))' $(DEMO_DIR)/s2-report.json
	@echo
	@echo "== 8. a real product (T29UNU, western Ireland): at 60 m it merges; at 10 m its band files are missing"
	$(RELEASE) merge-memfile Fixtures/sentinel2/S2A_MSIL2A_20221005T115411_N0400_R023_T29UNU_20221005T164454.SAFE \
	  -o $(DEMO_DIR)/t29unu-60m.tif --bands B04,B8A,SCL --resolution 60 --overwrite
	-$(RELEASE) merge-memfile Fixtures/sentinel2/S2A_MSIL2A_20221005T115411_N0400_R023_T29UNU_20221005T164454.SAFE \
	  -o $(DEMO_DIR)/t29unu-10m.tif --bands B04 --resolution 10 --overwrite; echo "(exit status $$?: missing data fails loudly)"

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
