# noether-vk build. `make test` and `make run` install what is missing first.
GO      ?= go
BIN     := bin/noether-vk
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
# Mesa caches JIT-compiled pipelines here, so repeated runs skip compilation.
export MESA_SHADER_CACHE_DIR ?= $(CURDIR)/.cache/mesa

.PHONY: figure4 all deps shaders check-shaders build test fuzz bench bench-peer bench-gpu run tables spring-seeds inner-lr-sweep test-slurm search lint clean

all: build

deps:
	./tools/deps.sh
	@mkdir -p $(MESA_SHADER_CACHE_DIR)

shaders:
	$(GO) run ./tools/shaderc -dir shaders

check-shaders:
	$(GO) run ./tools/shaderc -dir shaders -check

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/noether-vk

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Every GPU test runs with the validation layer on and fails on any message.
# xvfb-run gives the window tests a display.
test: deps check-shaders lint
	NOETHER_VK_VALIDATE=1 xvfb-run -a $(GO) test -count=1 ./...
	@# lavapipe's subgroup size follows its vector width (128 bits: 4, 512: 16);
	@# the kernels must not assume one. These runs read storage buffers and
	@# give the direct convolution GPUConvTile (what GPUs run by default), the
	@# one above texels and CPUConvTile. Each matmul variant's bits
	@# against the default's at each width; the suite over one tile per load
	@# path once, above. The direct convolution and im2col have no subgroup
	@# code, so their storage-buffer reads run at one width each (the GEMM
	@# form's products are the matmul kernel, checked at both); the implicit
	@# form runs at both. TestVulkanSubgroupReduce's tree half has no
	@# subgroup code either, and its other half is TestVulkan's.
	@# The two widths run side by side: each keeps about one core busy compiling.
	@logs=$$(mktemp -d) && pids= && for w in 128:direct,implicit 512:gemm,implicit; do \
		LP_NATIVE_VECTOR_WIDTH=$${w%%:*} KERNELTEST_CONV_PATHS=$${w#*:} NOETHER_VK_TEXELS=off NOETHER_VK_CONV_TILE=gpu NOETHER_VK_VALIDATE=1 \
			$(GO) test -count=1 -run TestVulkan -skip 'TestVulkanMatMulVariants/.*/suite|TestVulkanSubgroupReduce' ./kernels/ \
			>$$logs/$${w%%:*} 2>&1 & pids="$$pids $$!"; \
	done; fail=0; for p in $$pids; do wait $$p || fail=1; done; \
	for w in 128 512; do echo "kernels at LP_NATIVE_VECTOR_WIDTH=$$w, texels off, GPU conv tile:"; cat $$logs/$$w; done; \
	rm -rf $$logs; exit $$fail

# Every fuzz target for FUZZTIME each (one after another: Go fuzzes one
# target per run); their committed seeds also run in `make test`. A crash
# stops it, with the failing input saved under the package's testdata/fuzz.
# Go 1.26 may end a run with "context deadline exceeded" and no failing
# input, a race in its fuzzing coordinator (Go issue 75804, fixed in 1.27):
# that is reported and passed over, not taken for a crash.
FUZZTIME ?= 60s
FUZZ_TARGETS := formulas:FuzzParse formulas:FuzzParseTyped graph/safetensors:FuzzReadFile \
	noether/physics:FuzzParseRealPendulum noether/rundir:FuzzDecodeManifest noether/rundir:FuzzEventLog formulas/search:FuzzMerge
fuzz: deps
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; corpus=$$pkg/testdata/fuzz/$$name; \
		before=$$(ls $$corpus 2>/dev/null | wc -l); \
		echo "fuzz: $$name in ./$$pkg for $(FUZZTIME)"; \
		if $(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) ./$$pkg > .cache/fuzz.log 2>&1; then \
			tail -n 2 .cache/fuzz.log; \
		else \
			tail -n 20 .cache/fuzz.log; \
			if [ "$$(ls $$corpus 2>/dev/null | wc -l)" != "$$before" ] || ! grep -q 'context deadline exceeded' .cache/fuzz.log; then exit 1; fi; \
			echo "fuzz: $$name: no failing input, only Go's end-of-run race (Go issue 75804): passed over"; \
		fi; \
	done

bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 20x ./...

# Our kernels and PyTorch's (Debian's python3-torch on the CPU here) side by side.
PYTHON ?= /usr/bin/python3
bench-peer: deps build
	@$(PYTHON) -c 'import torch' 2>/dev/null || { echo "bench-peer: PyTorch not installed for $(PYTHON): apt-get install python3-torch"; exit 1; }
	./$(BIN) bench-kernels --json .cache/bench-ours.json
	$(PYTHON) tools/peer/kernels.py --json .cache/bench-peer.json
	$(PYTHON) tools/peer/metastep.py --json .cache/bench-peer-meta.json
	$(PYTHON) tools/peer/videostep.py bench --json .cache/bench-peer-video.json
	$(PYTHON) tools/peer/compare.py .cache/bench-ours.json .cache/bench-peer.json .cache/bench-peer-meta.json .cache/bench-peer-video.json
	@# The video step's loss and meta-gradients against the same peer's (float64).
	PYTHON=$(PYTHON) NOETHER_VK_VALIDATE=1 $(GO) test -count=1 -v -run 'TestPeer(VideoStep|Preset)' ./noether/video/

# On a lent NVIDIA machine (see tools/bench-gpu.sh for what to carry).
bench-gpu:
	./tools/bench-gpu.sh

# The main job: the pendulum's MLP baseline, the fine-tuning control, then a Noether Network (about 2 minutes on 2 cores).
run: deps build
	./$(BIN) train --resume

# The README's results tables, the spring over ten seeds, and the inner
# learning rates of the tailor and meta-tailor rows: sweep files
# (tools/sweeps), each point in its own run folder under runs/; complete
# points are skipped, so an interrupted target continues where it stopped.
# The merged table goes to runs/<sweep>/table.md and table.json.
tables spring-seeds inner-lr-sweep: deps build
	./$(BIN) sweep run tools/sweeps/$@.json
	./$(BIN) sweep merge tools/sweeps/$@.json

# The Figure 4 and 6 analogs on the built-in ramp scenes: the default
# preset (svg and noether, the inner-loss curve) on seeds 0, 1 and 2, each
# in runs/ramp-seed<S> (resumed when it is there), then each metric's mean
# over the seeds with SEM bands into runs/ramp-figure4 (see the README).
figure4: deps build
	for s in 0 1 2; do ./$(BIN) train --task ramp --seed $$s --resume --report runs/ramp-seed$$s.json || exit 1; done
	./$(BIN) plot --out runs/ramp-figure4 runs/ramp-seed0 runs/ramp-seed1 runs/ramp-seed2

# Slurm for real: a one-node cluster (installed and started as root, or
# skipped saying why), a sharded formula fit and a seed sweep as array jobs
# with their merges, checked against one-process runs (tools/slurm/test.sh).
test-slurm: deps build
	./tools/slurm/test.sh

# The formula search of the three physics systems, depth 7 (see the README).
search: deps build
	./bin/noether-vk formulas search --system pendulum --out runs/search/pendulum --json runs/search/pendulum.json
	./bin/noether-vk formulas search --system spring --out runs/search/spring --json runs/search/spring.json
	./bin/noether-vk formulas search --system real-pendulum --data ../shared/data/real_pend_h_1.txt \
		--out runs/search/real-pendulum --json runs/search/real-pendulum.json

clean:
	rm -rf bin .cache
