# fruitcam build, test and CI entry points. `make help` lists them.
#
# Set-up on a fresh Debian 12 machine with Go 1.26: `make demo` and `make test`.
# `make ci` (what .ci/run runs) also installs the Debian and npm packages CI needs.

SHELL := /bin/bash
GO ?= go
SHARED ?= $(abspath ../shared)
export FRUITCAM_TESTDATA ?= $(SHARED)/testdata
REF := $(abspath .tflite-ref)
OUT := $(abspath out)
# 32 targets: 10 s each keeps make ci near a quarter of an hour; run
# `make fuzz FUZZTIME=5m` for a deeper search.
FUZZTIME ?= 10s
BENCHTIME ?= 20x
CMDS := agent convert

# cgo flags for code that links the real TensorFlow Lite C library (reference
# runner, tflite backend). The library comes from npm via tflite-ref setup.
REF_CGO := CGO_ENABLED=1 CGO_CFLAGS="-I$(REF)/c/include" \
	CGO_LDFLAGS="-L$(REF)/c/linux_amd64 -Wl,-rpath,$(REF)/c/linux_amd64"

# Where a board keeps its own TensorFlow Lite C library and headers, for
# `make agent-tflite` run on the board.
TFLITE_LIB ?= /usr/local/lib
TFLITE_INCLUDE ?= /usr/local/include

.PHONY: help build test race lint cross check ci ci-deps ref conformance fuzz arm64 tflite tflite-arm64 dist agent-tflite v4l2 bench examples demo clean

help: ## list targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build the agent and converter for this machine into bin/
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/ $(addprefix ./cmd/,$(CMDS))

test: ## unit tests and offline conformance (golden files), pure Go
	CGO_ENABLED=0 $(GO) test ./...

race: ## unit tests with the race detector (-short: the numerical proofs run in make test)
	CGO_ENABLED=1 $(GO) test -race -short ./...

lint: ## gofmt and go vet
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@if [ -f $(REF)/c/include/tensorflow/lite/c/c_api.h ]; then \
		$(REF_CGO) $(GO) vet -tags tfliteref ./internal/tfliteref/... ./infer/conformance/ ./internal/featuremap/; \
	else echo "lint: skipping the tfliteref vet (run make ref first)"; fi

cross: ## static CGO_ENABLED=0 builds for linux amd64, arm64 and arm (GOARM=7)
	@for t in amd64 arm64 arm; do \
		echo "build linux/$$t"; \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$t GOARM=7 $(GO) build -trimpath -o $(OUT)/linux_$$t/ $(addprefix ./cmd/,$(CMDS)) || exit 1; \
	done

check: lint test race cross ## the one gate: lint, tests, race, cross builds

ci-deps: ## install what CI needs: Debian packages and the TFLite reference runtimes (npm)
	./.ci/deps.sh

ref: $(REF)/c/include/tensorflow/lite/c/c_api.h ## fetch the real TFLite runtimes (npm) into .tflite-ref/ and build our C-library runner
	$(REF_CGO) $(GO) build -tags tfliteref -o $(REF)/bin/tflite-c-run ./internal/tfliteref/cmd/tflite-c-run

$(REF)/c/include/tensorflow/lite/c/c_api.h:
	bash $(SHARED)/tools/tflite-ref/setup.sh $(REF)

conformance: ref ## compare the native engine with the real TFLite runtimes, live
	@mkdir -p $(OUT)
	set -o pipefail; $(REF_CGO) TFLITE_WASM_DIR=$(REF)/wasm $(GO) test -tags tfliteref -count=1 -v ./internal/tfliteref/ | tee $(OUT)/conformance.txt
	set -o pipefail; $(REF_CGO) TFLITE_WASM_DIR=$(REF)/wasm $(GO) test -tags tfliteref -count=1 -v -run 'Live' ./infer/conformance/ | tee -a $(OUT)/conformance.txt
	set -o pipefail; $(REF_CGO) $(GO) test -tags tfliteref -count=1 -v -run 'AgreesWithTFLite' ./internal/featuremap/ | tee -a $(OUT)/conformance.txt

fuzz: ## run every fuzz target for FUZZTIME each
	@for f in $$(grep -rl --include='*_test.go' '^func Fuzz' .); do \
		pkg=$$(dirname $$f); \
		for fn in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | sed 's/func //'); do \
			echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
			CGO_ENABLED=0 $(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg || exit 1; \
		done; \
	done

# cgo flags for the tflite backend (go-tflite): the library's headers, then
# ours for c_api_experimental.h, which the npm package lacks.
TFLITE_CGO := CGO_ENABLED=1 CGO_CFLAGS="-I$(REF)/c/include -I$(CURDIR)/internal/tflitec/include" \
	CGO_LDFLAGS="-L$(REF)/c/linux_amd64 -Wl,-rpath,$(REF)/c/linux_amd64"

tflite: ref ## the tflite backend and the Edge TPU delegate plumbing (cgo, -tags tflite): tests against TFLite 2.9, and the tagged binaries
	$(TFLITE_CGO) $(GO) vet -tags tflite ./infer/... ./cmd/...
	$(TFLITE_CGO) $(GO) test -tags tflite -count=1 ./infer/... ./cmd/agent
	$(TFLITE_CGO) $(GO) build -tags tflite -o $(OUT)/tflite/ $(addprefix ./cmd/,$(CMDS))

tflite-arm64: ref ## the same for linux/arm64 (aarch64 gcc, the arm64 library), run under qemu-aarch64-static
	./.ci/tflite_arm64.sh

dist: ref ## the agent with the tflite and edgetpu backends + TFLite 2.9, packaged for amd64 and arm64 (out/dist/*.tar.gz), each unpacked and run
	./.ci/dist.sh amd64
	./.ci/dist.sh arm64

agent-tflite: ## on a board: bin/agent with the tflite and edgetpu backends, against the board's own library (TFLITE_LIB, TFLITE_INCLUDE)
	CGO_ENABLED=1 CGO_CFLAGS="-I$(TFLITE_INCLUDE) -I$(CURDIR)/internal/tflitec/include" \
		CGO_LDFLAGS="-L$(TFLITE_LIB) -Wl,-rpath,$(TFLITE_LIB)" $(GO) build -trimpath -tags tflite -o bin/ ./cmd/agent

arm64: ## run the infer tests for linux/arm64 under qemu-aarch64-static
	./.ci/arm64.sh

v4l2: ## capture from a real V4L2 camera: Debian's kernel with the vivid driver under qemu (.ci/v4l2vm.sh)
	./.ci/v4l2vm.sh

bench: ref ## benchmarks: the engine vs the real TFLite runtimes, and the agent pipeline (frames/s, latency, allocations)
	./.ci/bench.sh

examples: ## feature maps and LIME overlays of MobileNet v2 and the fruit CNN on Fruits-360 images, into out/examples/
	./.ci/examples.sh

demo: ## the agent's main job: a simulated conveyor of Fruits-360 images, MobileNet v2, the embedded MQTT broker, and a subscriber printing what arrives
	CGO_ENABLED=0 $(GO) build -o bin/ ./cmd/agent
	@export FRUITCAM_DEMO_PASSWORD=$${FRUITCAM_DEMO_PASSWORD:-demo}; \
	bin/agent run --config configs/demo.yaml 2> >(grep -v 'level=INFO msg="[a-z]* hook\|mochi' >&2) & agent=$$!; \
	bin/agent watch --config configs/demo.yaml --count 35; status=$$?; \
	kill -INT $$agent; wait $$agent; exit $$status

ci: ci-deps ref lint test race conformance tflite tflite-arm64 dist fuzz arm64 v4l2 cross ## everything CI runs (what .ci/run calls)
	@echo "make ci: all steps passed"

clean: ## remove build outputs (keeps the downloaded runtimes)
	rm -rf bin out
