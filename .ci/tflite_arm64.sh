#!/usr/bin/env bash
# Cross-builds the tflite backend's and the Edge TPU delegate's tests for
# linux/arm64 with Debian's aarch64 gcc against the arm64 TFLite 2.9
# library (.tflite-ref, from make ref) and runs them under
# qemu-aarch64-static, each in its package directory.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
ref=$root/.tflite-ref/c
out=$root/out/tflite_arm64
rm -rf "$out" && mkdir -p "$out"
export GOARCH=arm64 CGO_ENABLED=1 CC=aarch64-linux-gnu-gcc
export CGO_CFLAGS="-I$ref/include -I$root/internal/tflitec/include"
export CGO_LDFLAGS="-L$ref/linux_arm64 -Wl,-rpath,$ref/linux_arm64"
qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64)
fail=0
for pkg in ./infer ./infer/delegate ./cmd/agent; do
	bin=$out/$(basename "$pkg").test
	go test -tags tflite -c -o "$bin" "$pkg"
	echo "tflite arm64: $pkg"
	# CC stays set: the delegate test builds its plugin for arm64 with it.
	if ! (cd "$pkg" && "$qemu" -L /usr/aarch64-linux-gnu "$bin" -test.count=1 -test.short -test.run 'TFLite|External|EdgeTPU'); then
		fail=1
	fi
done
# The agent and converter link against the arm64 library too.
go build -tags tflite -o "$out/" ./cmd/agent ./cmd/convert
exit $fail
