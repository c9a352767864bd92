package board

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// USB ids of the Coral USB Accelerator. It enumerates as Global Unichip's
// boot loader until libedgetpu downloads its firmware on first use, then
// re-enumerates as a Google device; either is a working accelerator.
const (
	usbIDBoot    = "1a6e:089a"
	usbIDRunning = "18d1:9302"
)

// PCI ids of the Edge TPU (M.2/mini PCIe cards, the Coral Dev Board's
// module): Global Unichip Corp. 1ac1, device 089a.
const (
	pciVendorEdgeTPU = "0x1ac1"
	pciDeviceEdgeTPU = "0x089a"
)

// udevRulesEdgeTPU is the file libedgetpu1-std/-max install so that
// plugdev may open the accelerator.
const udevRulesEdgeTPU = "99-edgetpu-accelerator.rules"

// checkEdgeTPU finds the Coral Edge TPUs: USB accelerators, PCIe cards
// and the Dev Board's module. It records them in e.TPUs.
func checkEdgeTPU(e *Env) []Result {
	var out []Result
	out = append(out, e.checkUSBTPUs()...)
	out = append(out, e.checkPCIeTPUs()...)
	need := e.NeedEdgeTPU()
	if len(e.TPUs) == 0 {
		r := Result{Name: "edgetpu", Status: need.Missing(), Detail: "none found (no USB accelerator, no /dev/apex_N)"}
		if need == NotNeeded {
			r.Detail += "; only backends edgetpu and auto use one"
		} else {
			r.Fix = "plug in the Coral USB Accelerator (lsusb shows 1a6e:089a or 18d1:9302), or install the PCIe card's driver (gasket-dkms)"
		}
		return append(out, r)
	}
	if need != NotNeeded {
		if r, ok := e.checkSelectedTPU(need); ok {
			out = append(out, r)
		}
	}
	return out
}

// checkUSBTPUs looks for Coral USB Accelerators in sysfs.
func (e *Env) checkUSBTPUs() []Result {
	h := e.Host
	var out []Result
	for _, dir := range h.glob("/sys/bus/usb/devices/*") {
		vendor, err1 := h.readString(dir + "/idVendor")
		product, err2 := h.readString(dir + "/idProduct")
		if err1 != nil || err2 != nil {
			continue
		}
		id := strings.ToLower(vendor + ":" + product)
		if id != usbIDBoot && id != usbIDRunning {
			continue
		}
		name := "usb " + path.Base(dir)
		tpu := TPU{Kind: "usb"}
		r := Result{Name: name, Status: OK, Detail: "Coral USB Accelerator " + id}
		if id == usbIDBoot {
			r.Detail += " (firmware not loaded yet: libedgetpu loads it on first use)"
		}
		bus, err1 := h.readString(dir + "/busnum")
		dev, err2 := h.readString(dir + "/devnum")
		b, err3 := strconv.Atoi(bus)
		d, err4 := strconv.Atoi(dev)
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			r.Status, r.Fix = Fail, "replug the accelerator; its bus and device numbers are unreadable"
			r.Detail += ": " + unwrapPath(err).Error()
			out = append(out, r)
			e.TPUs = append(e.TPUs, tpu)
			continue
		}
		tpu.Node = fmt.Sprintf("/dev/bus/usb/%03d/%03d", b, d)
		r.Detail += ", " + tpu.Node
		if err := h.access(tpu.Node); err != nil {
			r.Status = Fail
			r.Detail += ": " + accessProblem(err)
			r.Fix = e.usbAccessFix(err)
		} else {
			tpu.Usable = true
		}
		e.TPUs = append(e.TPUs, tpu)
		out = append(out, r)
		if id == usbIDRunning {
			if s, ok := e.usbSpeed(dir, name); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// usbSpeed warns about an accelerator on a USB 2 link. The speed is only
// meaningful once the firmware runs: the boot loader always enumerates at
// USB 2 speed.
func (e *Env) usbSpeed(dir, name string) (Result, bool) {
	s, err := e.Host.readString(dir + "/speed")
	if err != nil {
		return Result{}, false
	}
	mbps, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return Result{}, false
	}
	r := Result{Name: name + " speed", Status: OK, Detail: fmt.Sprintf("USB 3 (%s Mbit/s)", s)}
	if mbps >= 5000 {
		return r, true
	}
	r.Detail = fmt.Sprintf("USB 2 (%s Mbit/s)", s)
	switch {
	case e.board.kind == kindCoralMini:
		r.Detail += ": the Dev Board Mini's Edge TPU is on USB 2 by design"
	case e.board.kind == kindPi && e.board.piGen > 0 && e.board.piGen < 4:
		r.Status = Warn
		r.Detail += ": inference takes several times longer than on USB 3"
		r.Fix = fmt.Sprintf("a Raspberry Pi %d has only USB 2 ports: a Pi 4 or 5 (blue USB 3 ports) runs the accelerator at full speed", e.board.piGen)
	default:
		r.Status = Warn
		r.Detail += ": inference takes several times longer than on USB 3"
		r.Fix = "plug it into a USB 3 port (blue on a Raspberry Pi 4/5), directly or through a USB 3 hub, with the USB 3 cable that came with it"
	}
	return r, true
}

// accessProblem says why a device node cannot be opened, shortly.
func accessProblem(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "the device node does not exist"
	case isPermission(err):
		msg := err.Error()
		if i := strings.Index(msg, "("); i >= 0 {
			if j := strings.Index(msg[i:], ")"); j >= 0 {
				return "permission denied " + msg[i:i+j+1]
			}
		}
		return "permission denied"
	}
	return err.Error()
}

// usbAccessFix is the fix for an accelerator this user cannot open: Coral's
// udev rules give group plugdev access.
func (e *Env) usbAccessFix(err error) string {
	h := e.Host
	if errors.Is(err, fs.ErrNotExist) {
		return "/dev/bus/usb is not populated: in a container, pass it through (docker run --device /dev/bus/usb)"
	}
	rules := false
	for _, d := range []string{"/etc/udev/rules.d", "/lib/udev/rules.d", "/usr/lib/udev/rules.d"} {
		if h.exists(d + "/" + udevRulesEdgeTPU) {
			rules = true
			break
		}
	}
	u := h.userName()
	switch {
	case !rules:
		return fmt.Sprintf("install Coral's udev rules (libedgetpu1-std ships %s), add %s to plugdev (sudo usermod -aG plugdev %s), log in again and replug the accelerator", udevRulesEdgeTPU, u, u)
	case !h.inGroup("plugdev"):
		return fmt.Sprintf("add %s to plugdev (sudo usermod -aG plugdev %s), log in again and replug the accelerator", u, u)
	}
	return "the udev rules are installed and you are in plugdev: replug the accelerator (the rules apply when it is plugged in) or run sudo udevadm trigger"
}

// checkPCIeTPUs looks for Edge TPUs on PCIe: /dev/apex_N nodes of the
// apex driver, and Edge TPU PCI devices that have no node (no driver).
func (e *Env) checkPCIeTPUs() []Result {
	h := e.Host
	var out []Result
	gasket := ""
	if p, ok := e.dpkgDB().installed("gasket-dkms", ""); ok {
		gasket = p.String()
	}
	nodes := h.glob("/dev/apex_*")
	for _, node := range nodes {
		tpu := TPU{Kind: "pci", Node: node}
		r := Result{Name: path.Base(node), Status: OK, Detail: "PCIe Edge TPU " + node}
		if gasket != "" {
			r.Detail += " (" + gasket + ")"
		}
		if err := h.access(node); err != nil {
			r.Status = Fail
			r.Detail += ": " + accessProblem(err)
			u := h.userName()
			r.Fix = fmt.Sprintf("let group apex open it: echo 'SUBSYSTEM==\"apex\", MODE=\"0660\", GROUP=\"apex\"' | sudo tee /etc/udev/rules.d/65-apex.rules; sudo groupadd -f apex; sudo usermod -aG apex %s; then reboot", u)
		} else {
			tpu.Usable = true
		}
		e.TPUs = append(e.TPUs, tpu)
		out = append(out, r)
	}
	if len(nodes) > 0 {
		return out
	}
	for _, dir := range h.glob("/sys/bus/pci/devices/*") {
		v, _ := h.readString(dir + "/vendor")
		d, _ := h.readString(dir + "/device")
		if strings.ToLower(v) != pciVendorEdgeTPU || strings.ToLower(d) != pciDeviceEdgeTPU {
			continue
		}
		e.TPUs = append(e.TPUs, TPU{Kind: "pci"})
		r := Result{Name: "pci " + path.Base(dir), Status: Fail, Detail: "PCIe Edge TPU without a driver: no /dev/apex_N"}
		switch {
		case gasket == "":
			r.Fix = "install gasket-dkms and libedgetpu1-std from Coral's apt repository (https://coral.ai/docs/m2/get-started/), then reboot"
		case !h.exists("/sys/module/apex"):
			r.Detail += " (" + gasket + " installed, apex module not loaded)"
			r.Fix = "sudo modprobe apex; if it is missing, DKMS did not build it for this kernel: install the kernel headers (linux-headers-$(uname -r)), then dkms status and sudo dpkg-reconfigure gasket-dkms"
		default:
			r.Detail += " (" + gasket + " installed, apex module loaded)"
			r.Fix = "the apex module did not bind the card: check dmesg | grep -i apex (some kernels need pcie_aspm=off on the kernel command line)"
		}
		out = append(out, r)
	}
	return out
}

// checkSelectedTPU checks that the TPU model.edgetpu.device selects is
// among the usable ones: "" or ":N" any kind, "usb[:N]", "pci[:N]".
func (e *Env) checkSelectedTPU(need Need) (Result, bool) {
	if e.Config == nil {
		return Result{}, false
	}
	sel := e.Config.Model.EdgeTPU.Device
	if sel == "" {
		sel = "any"
	}
	n, want := e.selectedTPUs()
	r := Result{Name: "device", Status: OK, Detail: fmt.Sprintf("model.edgetpu.device %s: %d usable Edge TPU", sel, n)}
	if n != 1 {
		r.Detail += "s"
	}
	if n >= want {
		return r, true
	}
	r.Status = need.Missing()
	r.Detail += fmt.Sprintf(", %d needed", want)
	r.Fix = "fix the Edge TPUs above, or change model.edgetpu.device"
	return r, true
}
