# The two commands of the README. Each installs what is missing, configures, builds, then runs.
#   make demo   the main job: a simulated cluster under faults, with its report
#   make test   every test (ASan + UBSan build) through ctest, ending with ctest's summary
# Other targets: build (release tree only), bench, format, clean.

GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
JOBS ?= $(shell nproc)
BUILD ?= build
SAN_BUILD ?= build-san
DEMO_OUT ?= $(BUILD)/runs/demo

.PHONY: setup build demo test bench format clean

setup:
	@scripts/setup

$(BUILD)/build.ninja $(BUILD)/Makefile:
	@cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: setup $(BUILD)/$(if $(GENERATOR),build.ninja,Makefile)
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@mkdir -p $(DEMO_OUT)
	$(BUILD)/gregor demo --out $(DEMO_OUT)

$(SAN_BUILD)/build.ninja $(SAN_BUILD)/Makefile:
	@cmake -S . -B $(SAN_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DGREGOR_SANITIZE=ON \
	  -DCMAKE_CXX_FLAGS="-O1" >/dev/null

test: setup $(SAN_BUILD)/$(if $(GENERATOR),build.ninja,Makefile)
	@cmake --build $(SAN_BUILD) -j $(JOBS)
	@cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest -j $(JOBS) --output-on-failure --timeout 900

bench: build
	$(BUILD)/bench/gregor_bench

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
