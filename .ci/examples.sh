#!/usr/bin/env bash
# Renders example explanations into out/examples/: feature maps (convert
# featuremaps) and LIME overlays (convert lime) for the real MobileNet v2
# and for the workshop fruit CNN, on Fruits-360 images and the workshop's
# banana photo, then lists what it wrote and what each picture shows.
#
# The fruit CNN is kerastest/fruitcnn.py's network with RANDOM weights
# (python3 with h5py): shared/testdata holds no trained fruit model (its
# trained Keras files are ResNet-8 CIFAR-10 and visual wake words). Its
# pictures show the plumbing (layers, quantisation, overlays), not what a
# trained model looks at; swap in a trained fruits.h5 with FRUIT_H5=FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
TD=${FRUITCAM_TESTDATA:-$root/../shared/testdata}
O=$root/out/examples
mkdir -p "$O"

C=$O/convert
CGO_ENABLED=0 go build -o "$C" ./cmd/convert

M=$TD/models/coral/mobilenet_v2_1.0_224_quant.tflite
L=$TD/models/coral/imagenet_labels.txt
IMG=$TD/images/fruits360/Test/Banana/102_100.jpg
for f in "$M" "$L" "$IMG" "$TD/images/workshop/Banana_wiki.jpg"; do
	[ -f "$f" ] || { echo "examples: missing $f (set FRUITCAM_TESTDATA to the shared testdata folder)" >&2; exit 1; }
done

# what[file]: one line on what the picture shows, printed at the end.
declare -A what
files=()
wrote() { files+=("$1"); what[$1]=$2; }

# MobileNet v2 (ImageNet, trained): LIME.
"$C" lime --model "$M" --labels "$L" "$IMG" --seed 1 --hide-rest --min-side 400 \
	-o "$O/lime_mobilenet_v2_banana.png" --json > "$O/lime_mobilenet_v2_banana.json"
wrote lime_mobilenet_v2_banana.png "MobileNet v2 on a Fruits-360 banana: the 5 superpixels that raise its best ImageNet class most, the rest dimmed (weights in lime_mobilenet_v2_banana.json)"
"$C" lime --model "$M" --labels "$L" "$TD/images/workshop/Banana_wiki.jpg" --seed 1 --positive-only=false --features 8 \
	--max-side 800 -o "$O/lime_mobilenet_v2_banana_wiki.png"
wrote lime_mobilenet_v2_banana_wiki.png "MobileNet v2 on the workshop's banana photo: the 8 superpixels of largest weight, green for those that raise the best class, red for those that lower it"

# The fruit CNN, float and int8 (calibrated on Fruits-360), as bench.sh
# builds it; its labels are the training folders in order, as Keras's
# flow_from_directory numbers them.
py=python3
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import h5py, numpy' 2>/dev/null; then py=$p; break; fi
done
h5=${FRUIT_H5:-}
if [ -z "$h5" ]; then
	h5=$O/fruitcnn.h5
	"$py" internal/keras/kerastest/fruitcnn.py "$h5" 20 >/dev/null
fi
ls "$TD/images/fruits360/Training" > "$O/fruit_labels.txt"
"$C" keras --quiet "$h5" -o "$O/fruitcnn_float.tflite"
"$C" keras --quiet "$h5" --quantize int8 --calibrate "$TD/images/fruits360/Training" --calibrate-max 200 \
	-o "$O/fruitcnn_int8.tflite"
weights="random weights"
[ -n "${FRUIT_H5:-}" ] && weights="weights of $FRUIT_H5"

# Feature maps.
"$C" featuremaps --model "$O/fruitcnn_float.tflite" "$IMG" --all -o "$O/featuremaps_fruits_float.png"
wrote featuremaps_fruits_float.png "fruit CNN float ($weights): every channel of every layer for the Fruits-360 banana, gray"
"$C" featuremaps --model "$O/fruitcnn_int8.tflite" "$IMG" --all --colormap viridis -o "$O/featuremaps_fruits_int8.png"
wrote featuremaps_fruits_int8.png "fruit CNN int8 ($weights): the same layers after quantisation, viridis"
"$C" featuremaps --model "$M" "$IMG" --layer 56 --layer 58 --colormap inferno -o "$O/featuremaps_mobilenet_v2_first.png"
wrote featuremaps_mobilenet_v2_first.png "MobileNet v2: the 32 channels (112×112) of the first convolution (tensor 56) and of the first depthwise convolution (58) for the banana, inferno"
"$C" featuremaps --model "$M" "$IMG" --all -o "$O/featuremaps_mobilenet_v2_all.png"
wrote featuremaps_mobilenet_v2_all.png "MobileNet v2: every channel of every layer for the banana, gray, from the 112×112 first convolution down to the 7×7 last one and the 1001 scores"

# LIME on the fruit CNN, one image of three classes.
for c in Banana Kiwi Strawberry; do
	imgs=("$TD/images/fruits360/Test/$c"/*.jpg)
	f=${imgs[0]##*/}
	"$C" lime --model "$O/fruitcnn_int8.tflite" --labels "$O/fruit_labels.txt" "$TD/images/fruits360/Test/$c/$f" \
		--seed 1 --hide-rest --min-side 400 -o "$O/lime_fruitcnn_$c.png"
	wrote "lime_fruitcnn_$c.png" "fruit CNN int8 ($weights) on Fruits-360 $c/$f: the 5 superpixels that raise its best class, the rest dimmed"
done

# Every picture must be a PNG.
for f in "${files[@]}"; do
	[ "$(head -c 8 "$O/$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || { echo "examples: $O/$f is not a PNG" >&2; exit 1; }
done
echo
echo "examples: wrote into ${O#"$root/"}/:"
for f in "${files[@]}"; do
	printf '  %-36s %s\n' "$f" "${what[$f]}"
done
