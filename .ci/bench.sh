#!/usr/bin/env bash
# Benchmarks the native engine against the real TensorFlow Lite runtimes on
# the same models and inputs, in one run, and prints a table of median
# milliseconds per invocation (REPEAT timed invocations each, default 100,
# after one untimed warm-up run in convert run) and ratios:
#   native-1t / native-2t : `convert run --threads 1|2`
#   native-b8             : `convert run --batch 8`, per image
#   tflite-c              : the tflite backend (TFLite 2.9 C library, default kernels, 1 thread), `convert run`
#   tflite-xnn            : the same with the XNNPACK delegate (int8 and float; uint8 stays on the default kernels)
#   wasm-simd             : TFLite WASM with XNNPACK SIMD (Node), tflite_oracle.js
#   1t/c, 1t/wasm, 1t/xnn : native-1t over each (< 1: native is faster)
#   2t-speedup            : native-1t / native-2t
# The models: the Coral MobileNets, the MLPerf Tiny ones, and the workshop
# fruit CNN (float and int8), written by kerastest/fruitcnn.py (python3 with
# h5py) and converted with our converter, int8 calibrated on Fruits-360.
# Then a second table, explanations: wall seconds of `convert lime` (1000
# samples) and `convert featuremaps --all` on MobileNet v2 and the fruit
# CNN int8, median of 3, beside the goals (lime: MobileNet v2 < 15 s, fruit
# CNN < 1 s; feature maps of every layer < 1 s).
# Then the agent's frame path (pipeline, camera frames, latency): bench_agent.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
REF=$root/.tflite-ref
TD=${FRUITCAM_TESTDATA:-$root/../shared/testdata}
SHARED=${SHARED:-$root/../shared}
REPEAT=${REPEAT:-100}
out=$root/out/bench
mkdir -p "$out"

CGO_ENABLED=0 go build -o "$out/convert" ./cmd/convert
CGO_ENABLED=1 CGO_CFLAGS="-I$REF/c/include -I$root/internal/tflitec/include" \
	CGO_LDFLAGS="-L$REF/c/linux_amd64 -Wl,-rpath,$REF/c/linux_amd64" \
	go build -tags tflite -o "$out/convert-tflite" ./cmd/convert

# The fruit CNN, float and int8, from the workshop architecture.
py=python3
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import h5py, numpy' 2>/dev/null; then py=$p; break; fi
done
"$py" internal/keras/kerastest/fruitcnn.py "$out/fruitcnn.h5" 20 >/dev/null
"$out/convert" keras --quiet "$out/fruitcnn.h5" -o "$out/fruitcnn_float.tflite"
"$out/convert" keras --quiet "$out/fruitcnn.h5" --quantize int8 --calibrate "$TD/images/fruits360/Training" \
	--calibrate-max 200 -o "$out/fruitcnn_int8.tflite"

models=(
	"$TD/models/coral/mobilenet_v2_1.0_224_quant.tflite"
	"$TD/models/coral/mobilenet_v1_0.25_128_quant.tflite"
	"$TD/models/coral/tf2_mobilenet_v2_1.0_224_ptq.tflite"
	"$TD/models/mlperf_tiny/pretrainedResnet_quant.tflite"
	"$TD/models/mlperf_tiny/pretrainedResnet.tflite"
	"$TD/models/mlperf_tiny/vww_96_int8.tflite"
	"$out/fruitcnn_float.tflite"
	"$out/fruitcnn_int8.tflite"
)

median() { sed -n 's/.*"median_ms":\([0-9.e+-]*\).*/\1/p'; }
ratio() { echo "scale=2; $1 / $2" | bc -l | sed 's/^\./0./'; }
run() { "$out/convert" run --model "$path" --repeat "$REPEAT" "$@" | median; }

printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' model native-1t native-2t native-b8 tflite-c tflite-xnn wasm-simd 1t/c 1t/wasm 1t/xnn 2t-speedup
printf '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for path in "${models[@]}"; do
	[ -f "$path" ] || { echo "missing $path" >&2; exit 1; }
	need=$( ("$out/convert" run --model "$path" --input /dev/null 2>&1 || true) | tail -1)
	bytes=$(echo "$need" | sed -n "s/.*needs \([0-9]*\)$/\1/p")
	if [[ $need == *float32* ]]; then
		# Pixel-like floats in [0, 1): random bytes would be NaNs and
		# denormals, which no camera sends and which some CPUs run slowly.
		node -e 'const fs=require("fs");for(const[f,n]of[[process.argv[1],+process.argv[3]],[process.argv[2],8*process.argv[3]]]){const a=new Float32Array(n/4);for(let i=0;i<a.length;i++)a[i]=Math.random();fs.writeFileSync(f,Buffer.from(a.buffer))}' \
			"$out/in.bin" "$out/in8.bin" "$bytes"
	else
		head -c "$bytes" /dev/urandom > "$out/in.bin"
		head -c $((bytes * 8)) /dev/urandom > "$out/in8.bin"
	fi
	n1=$(run --input "$out/in.bin" --threads 1)
	n2=$(run --input "$out/in.bin" --threads 2)
	b8=$( ("$out/convert" run --model "$path" --input "$out/in8.bin" --batch 8 --repeat "$REPEAT" --threads 1 2>/dev/null || true) | median)
	b8=${b8:+$(echo "scale=3; $b8 / 8" | bc -l | sed 's/^\./0./')}
	c=$("$out/convert-tflite" run --model "$path" --input "$out/in.bin" --repeat "$REPEAT" --threads 1 --backend tflite 2>/dev/null | median)
	x=$("$out/convert-tflite" run --model "$path" --input "$out/in.bin" --repeat "$REPEAT" --threads 1 --backend tflite --xnnpack 2>/dev/null | median)
	w=$(TFLITE_WASM_DIR=$REF/wasm node "$SHARED/tools/tflite-ref/tflite_oracle.js" "$path" "$out/in.bin" --repeat "$REPEAT" --quiet \
		| node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const t=JSON.parse(s).inferMs.slice().sort((a,b)=>a-b);console.log(t[Math.floor(t.length/2)])})')
	name=${path#"$TD/models/"}
	name=${name#"$out/"}
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "${name%.tflite}" "$n1" "$n2" "${b8:--}" "$c" "$x" "$w" \
		"$(ratio "$n1" "$c")" "$(ratio "$n1" "$w")" "$(ratio "$n1" "$x")" "$(ratio "$n1" "$n2")"
done | tee "$out/table.md"

# Explanations: wall seconds of one `convert lime` (1000 samples, the
# default, classified on every core) and one `convert featuremaps --all`,
# whole commands (model load, image decode, PNG encode included), median
# of 3 runs, beside the goals of issue 9.
img=$TD/images/fruits360/Test/Banana/102_100.jpg
mnv2=$TD/models/coral/mobilenet_v2_1.0_224_quant.tflite
# wall NAME GOAL COMMAND... prints one table row.
wall() {
	local name=$1 goal=$2 t=() i s e
	shift 2
	for i in 1 2 3; do
		s=$(date +%s.%N)
		"$@" >/dev/null 2>"$out/explain.err" || { echo "bench: $name failed:" >&2; cat "$out/explain.err" >&2; exit 1; }
		e=$(date +%s.%N)
		t+=("$(echo "$e - $s" | bc -l)")
	done
	local m
	m=$(printf '%s\n' "${t[@]}" | sort -g | sed -n 2p)
	printf '| %s | %.2f | < %s | %s |\n' "$name" "$m" "$goal" "$( (($(echo "$m < $goal" | bc -l))) && echo yes || echo NO)"
}
echo
echo "explanations (wall seconds, median of 3, $(nproc) cores)"
echo
printf '| %s | %s | %s | %s |\n' command seconds goal meets
printf '|---|---:|---:|---|\n'
{
	wall "lime mobilenet_v2_1.0_224_quant, 1000 samples" 15 \
		"$out/convert" lime --model "$mnv2" "$img" --samples 1000 --seed 1 -o "$out/lime_mobilenet_v2.png"
	wall "lime fruitcnn_int8, 1000 samples" 1 \
		"$out/convert" lime --model "$out/fruitcnn_int8.tflite" "$img" --samples 1000 --seed 1 -o "$out/lime_fruitcnn_int8.png"
	wall "featuremaps --all mobilenet_v2_1.0_224_quant" 1 \
		"$out/convert" featuremaps --model "$mnv2" "$img" --all -o "$out/featuremaps_mobilenet_v2.png"
	wall "featuremaps --all fruitcnn_int8" 1 \
		"$out/convert" featuremaps --model "$out/fruitcnn_int8.tflite" "$img" --all -o "$out/featuremaps_fruitcnn_int8.png"
} | tee "$out/explanations.md"

echo
"$root/.ci/bench_agent.sh"
