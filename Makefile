# Front door. `make run` and `make test` install what is missing first.
JOBS ?= $(shell nproc)
BUILD ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
# `make fuzz`: seconds per harness; `make test` runs each for FUZZ_TEST_SECONDS
FUZZ_SECONDS ?= 300
FUZZ_TEST_SECONDS ?= 30
CONFIG ?= config/qts.yaml
CMAKE_FLAGS ?=
# `make V=1 ...` shows the configure and build output; without it the output
# goes to $(BUILD)/build.log and is shown only when a step fails.
QUIETLY = V=$(V) bash scripts/quietly

.PHONY: all setup build build-asan build-fuzz run test test-fast fuzz bench soak clean install
# `make install PREFIX=...`: bin/qts, lib/qts/plugins, share/qts, include/qts
# and lib/pkgconfig/qts-plugin.pc (relocatable: it finds its own prefix)
PREFIX ?= /usr/local

all: build

setup:
	@bash scripts/setup

$(BUILD)/CMakeCache.txt:
	@$(QUIETLY) $(BUILD)/configure.log configure \
	  cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: setup $(BUILD)/CMakeCache.txt
	@$(QUIETLY) $(BUILD)/build.log build cmake --build $(BUILD) -j $(JOBS)

$(BUILD_ASAN)/CMakeCache.txt:
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DQTS_SANITIZE=ON $(CMAKE_FLAGS)

build-asan: setup $(BUILD_ASAN)/CMakeCache.txt
	cmake --build $(BUILD_ASAN) -j $(JOBS)

# The libFuzzer harnesses of tests/fuzz: clang, every host library with
# fuzzer coverage and ASan/UBSan.
$(BUILD_FUZZ)/CMakeCache.txt:
	cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQTS_FUZZ=ON \
	  -DCMAKE_C_COMPILER=clang-14 -DBUILD_TESTING=OFF $(CMAKE_FLAGS)

build-fuzz: setup $(BUILD_FUZZ)/CMakeCache.txt
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target fuzz_all

# Each harness for FUZZ_SECONDS (default 300); `make fuzz FUZZ=config` for one.
fuzz: build-fuzz
	QTS_BIN=$(CURDIR)/$(BUILD)/qts bash scripts/run-fuzz $(BUILD_FUZZ) $(FUZZ_SECONDS) $(FUZZ)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

run: build
	@./$(BUILD)/qts run -c $(CONFIG)

# Every test in the normal build, then every test again under
# AddressSanitizer + UndefinedBehaviorSanitizer (ASAN_LABELS in
# scripts/run-tests), then each fuzz harness for FUZZ_TEST_SECONDS.
test: build build-asan build-fuzz
	FUZZ_TEST_SECONDS=$(FUZZ_TEST_SECONDS) bash scripts/with-services \
	  bash scripts/run-tests $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L 'unit|lua|abi'

# Benchmarks need PostgreSQL and Redis (the store and cache figures): the
# same private servers as the tests.
bench: build
	bash scripts/with-services bash scripts/run-bench $(BUILD)

# A paper run at 50 000 events/s with order flow for SOAK_SECONDS (default
# 3600), watching RSS and open files; one JSON line at the end (bench/soak.sh).
# Not part of `make test` or `make bench`.
SOAK_SECONDS ?= 3600
soak: build
	SOAK_SECONDS=$(SOAK_SECONDS) bash bench/soak.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
