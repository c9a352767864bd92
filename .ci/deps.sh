#!/usr/bin/env bash
# Installs what CI needs on a fresh Debian 12 machine: Debian packages and the
# real TensorFlow Lite runtimes from npm (into .tflite-ref/, git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-$(cd .. && pwd)/shared}

# mosquitto: MQTT integration tests (started by the tests, in the foreground).
# qemu-system-x86 busybox-static cpio kmod bc: the V4L2 test VM (.ci/v4l2vm.sh).
pkgs=(qemu-user-static gcc-aarch64-linux-gnu python3-h5py nodejs npm mosquitto qemu-system-x86 busybox-static cpio kmod bc)
missing=()
for p in "${pkgs[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# nodejs/npm may come from elsewhere (the machine image): accept working binaries.
if command -v node >/dev/null && command -v npm >/dev/null; then
	missing=("${missing[@]/nodejs/}"); missing=("${missing[@]/npm/}")
fi
want=()
for p in "${missing[@]}"; do [ -n "$p" ] && want+=("$p"); done
if [ ${#want[@]} -gt 0 ]; then
	echo "deps: installing ${want[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
	# The tests start their own mosquitto on free ports; a system broker the
	# package may have started would hold 1883, which the demo's embedded
	# broker uses.
	if [[ " ${want[*]} " == *" mosquitto "* ]]; then
		systemctl disable --now mosquitto >/dev/null 2>&1 || service mosquitto stop >/dev/null 2>&1 || true
	fi
fi
if [ ! -f .tflite-ref/c/include/tensorflow/lite/c/c_api.h ] || [ ! -f .tflite-ref/wasm/tflite_web_api_cc_simd.wasm ]; then
	bash "$SHARED/tools/tflite-ref/setup.sh" .tflite-ref
fi
echo "deps: ok"
