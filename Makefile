# Front door. `make run` and `make test` install what is missing first.
JOBS ?= $(shell nproc)
BUILD ?= build
BUILD_ASAN ?= build-asan
CONFIG ?= config/qts.yaml
CMAKE_FLAGS ?=

.PHONY: all setup build build-asan run test test-fast bench clean

all: build

setup:
	@bash scripts/setup

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: setup $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

$(BUILD_ASAN)/CMakeCache.txt:
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DQTS_SANITIZE=ON $(CMAKE_FLAGS)

build-asan: setup $(BUILD_ASAN)/CMakeCache.txt
	cmake --build $(BUILD_ASAN) -j $(JOBS)

run: build
	./$(BUILD)/qts run -c $(CONFIG)

# Every test in the normal build, then the unit, lua and abi tests again
# under AddressSanitizer + UndefinedBehaviorSanitizer.
test: build build-asan
	bash scripts/with-services bash scripts/run-tests $(BUILD) $(BUILD_ASAN)

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L 'unit|lua|abi'

# Benchmarks need PostgreSQL and Redis (the store and cache figures): the
# same private servers as the tests.
bench: build
	bash scripts/with-services bash scripts/run-bench $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
