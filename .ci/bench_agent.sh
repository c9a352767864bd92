#!/usr/bin/env bash
# Benchmarks the agent's frame path (internal/pipeline BenchmarkAgent:
# 640x480 YUYV frames -> pipeline -> results, native engine, one thread,
# one worker) and prints a markdown table per model and batch size:
#
#   frames/s         closed loop at capacity (2 x batch frames in flight)
#   p50, p99         capture->result latency in an open loop: frames on a
#                    clock at "camera fps" (30, or 70% of the model's
#                    capacity when it is slower), batching wait included
#   bare             ms/frame of infer.Classifier alone on the same frames
#   overhead         pipeline ms/frame - bare ms/frame (closed loop); for
#                    real models it is below the run-to-run noise, the
#                    "fake" row (a classifier that does nothing) measures it
#   outside Classify the same closed-loop run's time per frame outside the
#                    worker's Classify calls: overhead without that noise
#   allocs/frame     pipeline + engine, steady state, closed loop (full
#                    batches; the open loop's are in the raw output)
#
# Run it on an otherwise idle machine: a camera row whose clock ran late or
# that dropped frames gets a warning under the table.
#
# AGENT_BENCHTIME (default 1s) is the time of each closed-loop and bare
# measurement, AGENT_FRAMES (default 100) the frames of each open-loop one.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export FRUITCAM_TESTDATA=${FRUITCAM_TESTDATA:-$root/../shared/testdata}
AGENT_BENCHTIME=${AGENT_BENCHTIME:-1s}
AGENT_FRAMES=${AGENT_FRAMES:-100}
out=$root/out/bench
mkdir -p "$out"

CGO_ENABLED=0 go test -c -o "$out/pipeline.test" ./internal/pipeline
cd internal/pipeline
{
	"$out/pipeline.test" -test.run '^$' -test.bench 'BenchmarkAgent/.*/.*/(bare|pipeline)$' -test.benchtime "$AGENT_BENCHTIME"
	"$out/pipeline.test" -test.run '^$' -test.bench 'BenchmarkAgent/.*/.*/camera$' -test.benchtime "${AGENT_FRAMES}x"
} | tee "$out/agent.txt" | grep -E '^(Benchmark|--- |FAIL|panic)' >&2

# A result line: BenchmarkAgent/model=M/batch=B/LEAF-P  N  V ns/op  V unit ...
awk '
function zero(x) { return x > -0.005 && x < 0.005 ? 0 : x } # no "-0.00"
/^BenchmarkAgent\// {
	split($1, part, "/")
	model = substr(part[2], 7); batch = substr(part[3], 7); leaf = part[4]; sub(/-[0-9]+$/, "", leaf)
	key = model SUBSEP batch
	if (!(key in seen)) { seen[key] = 1; order[n++] = key }
	for (i = 3; i < NF; i += 2) v[key, leaf, $(i + 1)] = $i
}
END {
	print "| model | batch | frames/s | p50 ms | p99 ms | camera fps | bare ms/frame | overhead ms/frame | outside Classify ms/frame | allocs/frame (pipeline + engine) |"
	print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for (j = 0; j < n; j++) {
		key = order[j]; split(key, kb, SUBSEP)
		bare = v[key, "bare", "ms/frame"]; pipe = v[key, "pipeline", "ms/frame"]
		engine = v[key, "bare", "allocs/frame"]; total = v[key, "pipeline", "allocs/frame"]
		printf "| %s | %s | %.1f | %.2f | %.2f | %.1f | %.3f | %+.3f | %.3f | %.2f + %.2f |\n", kb[1], kb[2],
			v[key, "pipeline", "frames/s"], v[key, "camera", "p50-ms"], v[key, "camera", "p99-ms"], v[key, "camera", "fps"],
			bare, pipe - bare, v[key, "pipeline", "outside-ms/frame"], zero(total - engine), engine
	}
	for (j = 0; j < n; j++) {
		key = order[j]; split(key, kb, SUBSEP)
		if (v[key, "camera", "dropped"] > 0 || v[key, "camera", "late-ms"] > 10)
			printf "\nwarning: %s batch %s: the open loop dropped %d frames and its clock ran %.0f ms late (a busy machine?): its latencies are suspect\n",
				kb[1], kb[2], v[key, "camera", "dropped"], v[key, "camera", "late-ms"]
	}
}' "$out/agent.txt" | tee "$out/agent_table.md"
