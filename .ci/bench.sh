#!/usr/bin/env bash
# Benchmarks the native engine against the real TensorFlow Lite runtimes on
# the same models and inputs, in one run, and prints a table of median
# milliseconds (REPEAT invocations each) and ratios.
#   native-1t / native-2t : `convert run --threads 1|2`
#   tflite-c              : the TFLite 2.9 C library (default kernels), via our runner
#   tflite-wasm           : TFLite WASM with XNNPACK SIMD (Node), tflite_oracle.js
# Then the agent's frame path (pipeline, camera frames, latency): bench_agent.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
REF=$root/.tflite-ref
TD=${FRUITCAM_TESTDATA:-$root/../shared/testdata}
SHARED=${SHARED:-$root/../shared}
REPEAT=${REPEAT:-20}
out=$root/out/bench
mkdir -p "$out"

CGO_ENABLED=0 go build -o "$out/convert" ./cmd/convert
CGO_ENABLED=1 CGO_CFLAGS="-I$REF/c/include" CGO_LDFLAGS="-L$REF/c/linux_amd64 -Wl,-rpath,$REF/c/linux_amd64" \
	go build -tags tfliteref -o "$out/tflite-c-run" ./internal/tfliteref/cmd/tflite-c-run

models=(
	coral/mobilenet_v2_1.0_224_quant.tflite
	coral/mobilenet_v1_0.25_128_quant.tflite
	coral/tf2_mobilenet_v2_1.0_224_ptq.tflite
	mlperf_tiny/pretrainedResnet_quant.tflite
	mlperf_tiny/pretrainedResnet.tflite
	mlperf_tiny/vww_96_int8.tflite
)

median() { sed -n 's/.*"median_ms":\([0-9.e+-]*\).*/\1/p'; }

printf '%-42s %10s %10s %10s %10s %9s %9s\n' model native-1t native-2t tflite-c wasm-simd "1t/c" "1t/wasm"
for m in "${models[@]}"; do
	path=$TD/models/$m
	[ -f "$path" ] || { echo "missing $path" >&2; exit 1; }
	bytes=$( ("$out/convert" run --model "$path" --input /dev/null 2>&1 || true) | sed -n "s/.*needs \([0-9]*\)$/\1/p")
	head -c "$bytes" /dev/urandom > "$out/in.bin"
	n1=$("$out/convert" run --model "$path" --input "$out/in.bin" --repeat "$REPEAT" --threads 1 | median)
	n2=$("$out/convert" run --model "$path" --input "$out/in.bin" --repeat "$REPEAT" --threads 2 | median)
	c=$("$out/tflite-c-run" -threads 1 -repeat "$REPEAT" "$path" "$out/in.bin" "$out/c.bin" | median)
	w=$(TFLITE_WASM_DIR=$REF/wasm node "$SHARED/tools/tflite-ref/tflite_oracle.js" "$path" "$out/in.bin" --repeat "$REPEAT" --quiet \
		| node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const t=JSON.parse(s).inferMs.slice().sort((a,b)=>a-b);console.log(t[Math.floor(t.length/2)])})')
	printf '%-42s %10.2f %10.2f %10.2f %10.2f %9.2f %9.2f\n' "$m" "$n1" "$n2" "$c" "$w" \
		"$(echo "$n1 / $c" | bc -l)" "$(echo "$n1 / $w" | bc -l)"
done | tee "$out/table.txt"

echo
"$root/.ci/bench_agent.sh"
