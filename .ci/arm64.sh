#!/usr/bin/env bash
# Builds the engine, quantiser and converter test binaries for linux/arm64 and runs them under
# qemu-aarch64-static, each in its package directory (golden files are
# found relative to it). Everything runs on qemu's `-cpu max` (which has the
# dot-product instructions: the SDOT kernels); the engine's packages run a
# second time on `-cpu cortex-a53` (no dot product: the SMULL kernels), so
# both arm64 paths meet the conformance bars.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/out/arm64
rm -rf "$out" && mkdir -p "$out"
pkgs=$(CGO_ENABLED=0 go list ./infer/... ./quant/... ./internal/lower ./internal/kerasref)
CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go test -c -o "$out/" $pkgs
qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64)
fail=0
for pkg in $pkgs; do
	bin=$out/$(basename "$pkg").test
	[ -f "$bin" ] || continue # package without tests
	dir=$(go list -f '{{.Dir}}' "$pkg")
	echo "arm64: $pkg"
	# The converter's packages run -short under emulation (their full
	# numerical proofs run natively in make test); the engine runs in full.
	short=
	case $pkg in */quant/ptq | */internal/*) short=-test.short ;; esac
	if ! (cd "$dir" && "$qemu" -cpu max "$bin" -test.count=1 $short); then
		fail=1
	fi
	case $pkg in
	*/infer/native | */infer/native/gemm | */infer/conformance)
		echo "arm64 (cortex-a53): $pkg"
		if ! (cd "$dir" && "$qemu" -cpu cortex-a53 "$bin" -test.count=1); then
			fail=1
		fi
		;;
	esac
done
exit $fail
