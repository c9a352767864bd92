#!/usr/bin/env bash
# A real V4L2 camera for the capture tests: boot Debian's own kernel under
# qemu (TCG) with the vivid virtual video driver, and run the capture
# package's V4L2 tests inside it against /dev/video0.
#
# usage: .ci/v4l2vm.sh [prepare]
#   prepare  only install the Debian packages and fetch the kernel (no VM)
# exit status 0 iff the tests passed inside the VM (the log holds the pass
# marker "=== GO TEST RC=0").
#
# Environment (all optional):
#   V4L2VM_CACHE   kernel and build cache (default .cache/v4l2vm, git-ignored)
#   V4L2VM_RUN     -test.run pattern inside the VM (default V4L2)
#   VM_TIMEOUT     seconds before qemu is killed (default 300)
#   ACCEL          qemu accelerator (default tcg: /dev/kvm on these machines
#                  is a paravirtual flavour that hangs a stock kernel)
#   FRUITCAM_TESTDATA  shared fixtures (default ../shared/testdata): the
#                  tiny MobileNet v1 0.25 128 (and ImageNet labels) the test
#                  classifies with
#
# Adapted from ../shared/tools/v4l2vm (README, mkinitramfs.sh, boot.sh); the
# project owns this copy. The /init inside loads vivid's dependencies, then
# vivid (one instance, video capture node only), runs the test binary with
# FRUITCAM_V4L2_DEVICE=/dev/video0 and powers off.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=${V4L2VM_CACHE:-$ROOT/.cache/v4l2vm}
TESTDATA=${FRUITCAM_TESTDATA:-$(cd .. && pwd)/shared/testdata}
MODEL=$TESTDATA/models/coral/mobilenet_v1_0.25_128_quant.tflite
LABELS=$TESTDATA/models/coral/imagenet_labels.txt
RUN=${V4L2VM_RUN:-V4L2}
export PATH=$PATH:/usr/local/go/bin:/usr/sbin:/sbin
mkdir -p "$CACHE"

log() { echo "v4l2vm: $*"; }

# 1. Debian packages, installed only when missing.
want=()
for p in qemu-system-x86 busybox-static cpio kmod bc; do
	dpkg -s "$p" >/dev/null 2>&1 || want+=("$p")
done
updated=
if [ ${#want[@]} -gt 0 ]; then
	log "installing ${want[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	updated=1
	apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
fi

# 2. Debian's kernel (the one linux-image-amd64 depends on), unpacked once
# into the cache with its module index.
KROOT=$(ls -d "$CACHE"/kroot-* 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$KROOT" ] || ! ls "$KROOT"/boot/vmlinuz-* >/dev/null 2>&1; then
	KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
	if [ -z "$KPKG" ] && [ -z "$updated" ]; then
		apt-get update -qq
		KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
	fi
	[ -n "$KPKG" ] || { log "cannot find the kernel package linux-image-amd64 depends on"; exit 1; }
	KVER=${KPKG#linux-image-}
	log "fetching $KPKG"
	tmp=$(mktemp -d "$CACHE/dl.XXXXXX")
	(cd "$tmp" && apt-get download -qq "$KPKG" && dpkg-deb -x "$KPKG"_*.deb kroot && depmod -b "$PWD/kroot" "$KVER")
	rm -rf "$CACHE/kroot-$KVER"
	mv "$tmp/kroot" "$CACHE/kroot-$KVER"
	rm -rf "$tmp"
	KROOT=$CACHE/kroot-$KVER
fi
KVER=$(basename "$KROOT"); KVER=${KVER#kroot-}
KERNEL=$KROOT/boot/vmlinuz-$KVER
log "kernel $KVER"
[ "${1:-}" = prepare ] && exit 0

for f in "$MODEL" "$LABELS"; do
	[ -f "$f" ] || { log "fixture $f missing (set FRUITCAM_TESTDATA)"; exit 1; }
done

# 3. The test binaries, static (CGO_ENABLED=0), for the VM: capture's V4L2
# tests, and the agent's clock test, which sets the VM's clock.
TESTBIN=$CACHE/capture.test
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go test -c -o "$TESTBIN" ./capture
AGENTBIN=$CACHE/agent.test
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go test -c -o "$AGENTBIN" ./cmd/agent

# 4. initramfs: busybox, vivid and its dependencies, the test binary, the model.
R=$(mktemp -d)
trap 'rm -rf "$R"' EXIT
mkdir -p "$R"/{bin,dev,proc,sys,tmp,lib/modules}
cp /bin/busybox "$R/bin/busybox"
for a in sh mount insmod poweroff ls cat echo sleep; do ln -s busybox "$R/bin/$a"; done
: >"$R/modlist"
modprobe -d "$KROOT" -S "$KVER" --show-depends vivid | awk '/^insmod/{print $2}' | while read -r m; do
	b=$(basename "$m")
	case $b in
	*.ko.xz) xz -dc "$m" >"$R/lib/modules/${b%.xz}"; b=${b%.xz} ;;
	*.ko.zst) zstd -qdc "$m" >"$R/lib/modules/${b%.zst}"; b=${b%.zst} ;;
	*) cp "$m" "$R/lib/modules/$b" ;;
	esac
	[ "$b" = vivid.ko ] || echo "$b" >>"$R/modlist"
done
[ -f "$R/lib/modules/vivid.ko" ] || { log "vivid.ko not found in $KROOT"; exit 1; }
cp "$TESTBIN" "$R/test.bin"
cp "$AGENTBIN" "$R/agent.bin"
cp "$MODEL" "$R/model.tflite"
cp "$LABELS" "$R/labels.txt"
cat >"$R/init" <<INIT
#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in \$(cat /modlist); do insmod /lib/modules/\$m || echo "insmod \$m failed"; done
VIVID="insmod /lib/modules/vivid.ko n_devs=1 node_types=0x1"
\$VIVID || echo "insmod vivid failed"
ls -l /dev/video*
echo "=== GO TEST START"
export TMPDIR=/tmp FRUITCAM_V4L2_DEVICE=/dev/video0 FRUITCAM_V4L2_MODEL=/model.tflite FRUITCAM_V4L2_LABELS=/labels.txt
/test.bin -test.v -test.count=1 -test.run '$RUN'; rc=\$?
if [ "\$rc" = 0 ]; then
	cd /tmp && FRUITCAM_CLOCK_JUMP_OK=1 /agent.bin -test.v -test.count=1 -test.run '^TestClockJump\$'; rc=\$?
fi
echo "=== GO TEST RC=\$rc"
poweroff -f
INIT
chmod +x "$R/init"
INITRD=$CACHE/initramfs.cpio.gz
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$INITRD"

# 5. Boot with TCG; the log is kept beside the cache for a failed run.
LOG=$CACHE/boot.log
start=$(date +%s.%N)
set +e
timeout "${VM_TIMEOUT:-300}" qemu-system-x86_64 -accel "${ACCEL:-tcg}" -cpu max -m 512 -smp 1 \
	-nographic -no-reboot -nodefaults -serial stdio \
	-kernel "$KERNEL" -initrd "$INITRD" \
	-append "console=ttyS0 panic=-1 quiet loglevel=3" >"$LOG" 2>&1
qrc=$?
set -e
sed -n '/=== GO TEST START/,/=== GO TEST RC=/p' "$LOG"
log "accel=${ACCEL:-tcg} qemu_rc=$qrc wall=$(echo "$(date +%s.%N) - $start" | bc)s log=$LOG"
if grep -a -q "=== GO TEST RC=0" "$LOG"; then
	log "pass"
	exit 0
fi
log "FAIL (see $LOG)"
tail -n 40 "$LOG"
exit 1
