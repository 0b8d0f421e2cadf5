# Tessera — build, test, demo, install, benchmark.
# On a fresh Debian 12 machine `make demo` and `make test` are all the set-up there is:
# `make deps` installs GDAL and friends from Debian when they are missing.

SWIFT    ?= swift
PREFIX   ?= /usr/local
RELEASE  := .build/release/tessera
APT_PACKAGES := libgdal-dev libproj-dev libtiff-dev gdal-bin python3-gdal pkg-config
# Root installs directly (CI, containers); anyone else goes through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build test demo install bench bench-deps bench-large clean

all: build

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else \
	  echo "make deps: GDAL $$(pkg-config --modversion gdal) and its tools are installed"; \
	fi

build: deps
	$(SWIFT) build -c release --product tessera

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing

demo: build
	@echo "== tessera info on a Landsat scene (rasterio's RGB.byte.tif), with statistics"
	$(RELEASE) info Fixtures/rasterio/RGB.byte.tif --stats
	@echo
	@echo "== a Sentinel-2 L2A product: its subdatasets"
	$(RELEASE) info Fixtures/sentinel2/S2A_MSIL2A_20221005T115411_N0400_R023_T29UNU_20221005T164454.SAFE/MTD_MSIL2A.xml
	@echo
	@echo "== the same as JSON, for scripts"
	$(RELEASE) info Fixtures/gdal_autotest/utmsmall.tif --json

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
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
bench-deps: deps
	@dpkg-query -W -f='$${Status}' time 2>/dev/null | grep -q "install ok installed" || \
	  { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends time; }

bench: build bench-deps
	cd Benchmarks && /usr/bin/python3 bench.py --size $(BENCH_SIZE) --runs $(BENCH_RUNS)

bench-large: build bench-deps
	cd Benchmarks && /usr/bin/python3 bench.py --large --runs 1

clean:
	rm -rf .build
