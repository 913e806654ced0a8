# The two commands of the README. Each installs what is missing, configures, builds, then runs.
#   make demo   the main job: a simulated cluster under faults, with its report
#   make test   every test (ASan + UBSan build) through ctest, ending with ctest's summary
# Other targets: build (release tree only), bench, fuzz (libFuzzer, clang), format, clean.

GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
JOBS ?= $(shell nproc)
BUILD ?= build
SAN_BUILD ?= build-san
DEMO_OUT ?= $(BUILD)/runs/demo

.PHONY: setup build demo test bench fuzz format clean

setup:
	@scripts/setup

$(BUILD)/build.ninja $(BUILD)/Makefile:
	@cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: setup $(BUILD)/$(if $(GENERATOR),build.ninja,Makefile)
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@mkdir -p $(DEMO_OUT)
	$(BUILD)/gregor sim scenarios/standard.toml --out $(DEMO_OUT)

# -g1: line tables only (ASan and UBSan stack traces keep file:line), no variable info: the
# sanitizer tree compiles about a third faster, which is what pays for CI's 2000-seed sweep.
# Unity batches for the libraries and the CLI, -O0 for the test files (GREGOR_UNITY_BUILD and
# GREGOR_DRIVER_COMPILE_OPTIONS in CMakeLists.txt say why): both cut the compile CPU that CI's
# 25 minutes on 2 cores must also fit the sweeps into.
$(SAN_BUILD)/build.ninja $(SAN_BUILD)/Makefile:
	@cmake -S . -B $(SAN_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DGREGOR_SANITIZE=ON \
	  -DCMAKE_CXX_FLAGS="-O1" -DCMAKE_CXX_FLAGS_DEBUG="-g1" -DGREGOR_DRIVER_COMPILE_OPTIONS=-O0 \
	  -DGREGOR_UNITY_BUILD=ON >/dev/null

test: setup $(SAN_BUILD)/$(if $(GENERATOR),build.ninja,Makefile)
	@cmake --build $(SAN_BUILD) -j $(JOBS)
	@cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest -j $(JOBS) --output-on-failure --timeout 900

bench: build
	$(BUILD)/bench/gregor_bench

# The libFuzzer targets (fuzz/README.md): clang in its own tree, FUZZ_RUNS executions each.
FUZZ_RUNS ?= 1000000
fuzz: setup
	@command -v clang++ >/dev/null && dpkg-query -W libclang-rt-14-dev >/dev/null 2>&1 || \
	  $$( [ $$(id -u) -eq 0 ] || echo sudo ) apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev
	@CC=clang CXX=clang++ cmake -S . -B build-fuzz $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_CXX_FLAGS=-O1 -DGREGOR_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target request_decoder_fuzz record_batch_fuzz seed_corpus
	build-fuzz/fuzz/seed_corpus build-fuzz/corpus
	build-fuzz/fuzz/request_decoder_fuzz -runs=$(FUZZ_RUNS) -max_len=4096 build-fuzz/corpus/request_decoder
	build-fuzz/fuzz/record_batch_fuzz -runs=$(FUZZ_RUNS) -max_len=4096 build-fuzz/corpus/record_batch

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
