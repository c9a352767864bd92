#!/usr/bin/env bash
# Packages the agent with the tflite and edgetpu backends for one
# architecture (amd64 or arm64) together with the TensorFlow Lite 2.9 C
# library it was built against (from .tflite-ref, `make ref`):
#   out/dist/fruitcam-tflite-linux-<arch>.tar.gz
#     bin/agent                        -tags tflite, rpath $ORIGIN/../lib
#     lib/libtensorflowlite_c.so       TFLite 2.9.0 (tfjs-tflite-node 0.0.2, Apache-2.0)
#     lib/libexternal_delegate_obj.so  loads libedgetpu.so.1 (installed on the board)
#     configs/                         the example configs
# Then it unpacks the archive elsewhere and classifies a photo with the
# packaged binary (under qemu-aarch64-static for arm64), so the package is
# proven to find its own library.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
arch=${1:?usage: dist.sh amd64|arm64}
ref=$root/.tflite-ref/c
TD=${FRUITCAM_TESTDATA:-$root/../shared/testdata}
name=fruitcam-tflite-linux-$arch
stage=$root/out/dist/$name
rm -rf "$stage" && mkdir -p "$stage/bin" "$stage/lib" "$stage/configs"

run=()
case $arch in
amd64) export CC=gcc ;;
arm64)
	export CC=aarch64-linux-gnu-gcc
	run=("$(command -v qemu-aarch64-static || command -v qemu-aarch64)" -L /usr/aarch64-linux-gnu)
	;;
*) echo "dist.sh: unknown architecture $arch (want amd64 or arm64)" >&2; exit 2 ;;
esac
export GOOS=linux GOARCH=$arch CGO_ENABLED=1
export CGO_CFLAGS="-I$ref/include -I$root/internal/tflitec/include"
# $ORIGIN is for the dynamic linker, not the shell.
export CGO_LDFLAGS="-L$ref/linux_$arch -Wl,-rpath,\$ORIGIN/../lib"
go build -trimpath -tags tflite -o "$stage/bin/agent" ./cmd/agent
cp "$ref/linux_$arch/libtensorflowlite_c.so" "$ref/linux_$arch/libexternal_delegate_obj.so" "$stage/lib/"
cp configs/*.yaml configs/schema.json "$stage/configs/"
need=$(objdump -T "$stage/bin/agent" | grep -o 'GLIBC_[0-9.]*' | sort -V -u | tail -1)
cat > "$stage/README.txt" <<TXT
fruitcam agent for linux/$arch with the tflite and edgetpu backends.
Needs glibc ${need#GLIBC_} or newer (Raspberry Pi OS 12 "bookworm", Ubuntu 22.04 / JetPack 6);
older systems build the agent on the board: make agent-tflite (see README.md).
The Edge TPU backend also needs libedgetpu1-std (Coral's apt repository).
Check the board:  bin/agent doctor --config configs/<yours>.yaml
lib/libtensorflowlite_c.so is TensorFlow Lite 2.9.0 (Apache License 2.0), from the npm
package tfjs-tflite-node 0.0.2.
TXT
tar czf "$root/out/dist/$name.tar.gz" -C "$root/out/dist" "$name"
echo "dist: out/dist/$name.tar.gz (bin/agent needs $need)"

# Smoke test: the unpacked package classifies the workshop banana.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar xzf "$root/out/dist/$name.tar.gz" -C "$tmp"
out=$("${run[@]}" "$tmp/$name/bin/agent" classify --backend tflite --top 1 \
	--model "$TD/models/coral/mobilenet_v2_1.0_224_quant.tflite" --labels "$TD/models/coral/imagenet_labels.txt" \
	"$TD/images/workshop/Banana_wiki.jpg" 2>&1)
echo "$out" | grep -q "^Predicted class: banana" || { echo "dist: the packaged agent did not classify the banana:"; echo "$out"; exit 1; } >&2
echo "dist: the unpacked $arch agent runs on its own library: $(echo "$out" | grep '^Predicted')"
