package board

import (
	"bytes"
	"fmt"
	"math/bits"
	"path"
	"strconv"
	"strings"
)

// boardKind is the family of a board, for advice that depends on it.
type boardKind int

const (
	kindUnknown boardKind = iota
	kindPi
	kindCoralDev
	kindCoralMini
	kindJetson
	kindPC
)

// boardInfo is what the devicetree (or DMI) says the machine is.
type boardInfo struct {
	model string // as the firmware names it
	name  string // what we call it, "" when model says it already
	kind  boardKind
	piGen int // Raspberry Pi generation (3, 4, 5), 0 when unknown
}

// readBoard identifies the machine from /proc/device-tree, else from the
// DMI tables x86 firmware fills in.
func readBoard(h *Host) boardInfo {
	model, err := h.readString("/proc/device-tree/model")
	if err != nil {
		model, err = h.readString("/sys/firmware/devicetree/base/model")
	}
	if err == nil && model != "" {
		compat, _ := h.readFile("/proc/device-tree/compatible")
		return classifyBoard(model, compat)
	}
	vendor, _ := h.readString("/sys/class/dmi/id/sys_vendor")
	product, _ := h.readString("/sys/class/dmi/id/product_name")
	if s := strings.TrimSpace(vendor + " " + product); s != "" {
		return boardInfo{model: s, kind: kindPC}
	}
	if m := h.machine(); m == "x86_64" || m == "i686" {
		return boardInfo{kind: kindPC}
	}
	return boardInfo{}
}

// classifyBoard recognises the boards fruitcam is documented for from the
// devicetree model and compatible strings (compatible is a list of
// NUL-terminated strings, most specific first).
func classifyBoard(model string, compatible []byte) boardInfo {
	b := boardInfo{model: model}
	var compat []string
	for _, c := range bytes.Split(compatible, []byte{0}) {
		if len(c) > 0 {
			compat = append(compat, string(c))
		}
	}
	hasCompat := func(prefix string) bool {
		for _, c := range compat {
			if strings.HasPrefix(c, prefix) {
				return true
			}
		}
		return false
	}
	lower := strings.ToLower(model)
	switch {
	case strings.HasPrefix(model, "Raspberry Pi"):
		b.kind = kindPi
		rest := strings.TrimPrefix(model, "Raspberry Pi ")
		rest = strings.TrimPrefix(rest, "Compute Module ")
		if n, err := strconv.Atoi(strings.Fields(rest + " ")[0]); err == nil {
			b.piGen = n
		}
	case strings.Contains(model, "Phanbell") || hasCompat("google,imx8mq-phanbell"):
		b.kind, b.name = kindCoralDev, "Coral Dev Board"
	case strings.Contains(lower, "coral dev board mini") || strings.Contains(model, "MT8167") || hasCompat("mediatek,mt8167"):
		b.kind, b.name = kindCoralMini, "Coral Dev Board Mini"
	case strings.Contains(lower, "jetson") || hasCompat("nvidia,tegra"):
		b.kind = kindJetson
	}
	return b
}

func (b boardInfo) String() string {
	switch {
	case b.model == "" && b.kind == kindPC:
		return "a PC (its firmware gives no DMI product name)"
	case b.model == "":
		return "unknown (no devicetree or DMI model)"
	case b.name != "" && !strings.Contains(b.model, b.name):
		return b.model + " (" + b.name + ")"
	}
	return b.model
}

// checkBoard reports what the machine is and how it is doing.
func checkBoard(e *Env) []Result {
	h := e.Host
	out := []Result{{Name: "model", Status: OK, Detail: e.board.String()}}
	out = append(out, checkArch(e))
	if n, err := cpuCount(h); err == nil {
		out = append(out, Result{Name: "cpus", Status: OK, Detail: strconv.Itoa(n)})
	}
	if r, ok := checkMemory(h); ok {
		out = append(out, r)
	}
	out = append(out, checkTemperature(h))
	if r, ok := checkThrottling(h); ok {
		out = append(out, r)
	}
	if u := h.User; u != nil {
		r := Result{Name: "user", Status: OK, Detail: fmt.Sprintf("%s (uid %d)", u.Name, u.UID)}
		if u.UID == 0 {
			r.Detail += ": root may open every device; if the agent runs as another user, run doctor as that user"
		} else if len(u.Groups) > 0 {
			r.Detail += ", groups " + strings.Join(u.Groups, " ")
		}
		out = append(out, r)
	}
	return out
}

// goarchOfMachine maps uname -m to GOARCH.
func goarchOfMachine(m string) string {
	switch m {
	case "x86_64":
		return "amd64"
	case "aarch64", "arm64", "aarch64_be":
		return "arm64"
	case "i386", "i486", "i586", "i686":
		return "386"
	case "riscv64":
		return "riscv64"
	}
	if strings.HasPrefix(m, "armv") {
		return "arm"
	}
	return ""
}

// goarchOfDpkg maps a Debian architecture to GOARCH.
func goarchOfDpkg(a string) string {
	switch a {
	case "amd64", "arm64", "riscv64":
		return a
	case "armhf", "armel":
		return "arm"
	case "i386":
		return "386"
	}
	return ""
}

// checkArch compares the binary's architecture with the kernel's and the
// userland's. A static pure-Go binary runs wherever the kernel can execute
// it; the tflite build is linked dynamically and needs libraries of its
// own architecture, which the userland (dpkg's architecture) provides.
func checkArch(e *Env) Result {
	h := e.Host
	machine := h.machine()
	kernel := goarchOfMachine(machine)
	userland := e.dpkgDB().arch()
	parts := []string{h.binaryArch() + " binary"}
	if machine != "" {
		parts = append(parts, machine+" kernel")
	}
	if userland != "" {
		parts = append(parts, userland+" userland")
	}
	r := Result{Name: "arch", Status: OK, Detail: strings.Join(parts, ", ")}
	switch {
	case kernel == "" || kernel == h.GOARCH:
	case h.GOARCH == "arm" && kernel == "arm64":
		r.Detail += ": a 32-bit binary on a 64-bit kernel runs fine"
	default:
		r.Status = Warn
		r.Detail += ": this kernel cannot run the binary natively (emulated?)"
		r.Fix = fmt.Sprintf("build the agent for GOARCH=%s (see README, Building for a board)", kernel)
		return r
	}
	ua := goarchOfDpkg(userland)
	if ua == "" || ua == h.GOARCH {
		return r
	}
	r.Detail += fmt.Sprintf("; the libraries of a tflite build must be %s, this OS installs %s ones", elfWant(h.GOARCH).name, userland)
	if e.NeedTFLite() != NotNeeded {
		r.Status = Warn
		r.Fix = fmt.Sprintf("build the tflite agent for GOARCH=%s to match the OS's libraries", ua)
		if ua == "arm" {
			r.Fix += " (GOARM=7)"
		}
	}
	return r
}

// cpuCount reads the online CPUs ("0-3,6"), else counts /proc/cpuinfo's
// processors.
func cpuCount(h *Host) (int, error) {
	if s, err := h.readString("/sys/devices/system/cpu/online"); err == nil {
		if n, err := parseCPUList(s); err == nil {
			return n, nil
		}
	}
	b, err := h.readFile("/proc/cpuinfo")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if k, _, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "processor" {
			n++
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("board: no processor in /proc/cpuinfo")
	}
	return n, nil
}

// parseCPUList counts the CPUs of a kernel CPU list: "0-3", "0,2-3".
func parseCPUList(s string) (int, error) {
	n := 0
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("board: cpu list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 16); err != nil {
				return 0, fmt.Errorf("board: cpu list %q: %w", s, err)
			}
		}
		if b < a {
			return 0, fmt.Errorf("board: cpu list %q: range %s is backwards", s, part)
		}
		n += int(b-a) + 1
	}
	return n, nil
}

// lowMemory is the available memory below which the agent (a few tens of
// MB with a MobileNet) competes with the rest of the system.
const lowMemory = 256 << 20

// checkMemory reads MemTotal and MemAvailable from /proc/meminfo.
func checkMemory(h *Host) (Result, bool) {
	b, err := h.readFile("/proc/meminfo")
	if err != nil {
		return Result{}, false
	}
	info := parseMeminfo(b)
	total, ok := info["MemTotal"]
	if !ok {
		return Result{}, false
	}
	r := Result{Name: "memory", Status: OK, Detail: formatBytes(total)}
	if avail, ok := info["MemAvailable"]; ok {
		r.Detail += ", " + formatBytes(avail) + " available"
		if avail < lowMemory {
			r.Status = Warn
			r.Fix = "free memory: stop other programs, or run fewer infer.workers or a smaller model"
		}
	}
	return r, true
}

// parseMeminfo reads "Key:   123 kB" lines into bytes.
func parseMeminfo(b []byte) map[string]uint64 {
	out := map[string]uint64{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 && f[1] == "kB" {
			hi, lo := bits.Mul64(n, 1024)
			if hi != 0 {
				continue
			}
			n = lo
		}
		out[strings.TrimSpace(k)] = n
	}
	return out
}

func formatBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d kB", n>>10)
}

// hotCelsius is where SoCs start to throttle: the Raspberry Pi firmware
// at 80 °C (hard limit 85 °C).
const hotCelsius = 80

// checkTemperature reads the CPU's thermal zone. Boards have several
// zones, and not all are the CPU: a Jetson Nano's PMIC-Die zone reads a
// constant 100 °C. Zones whose type names the CPU or SoC are preferred;
// without one, thermal_zone0 (the SoC on most ARM boards).
func checkTemperature(h *Host) Result {
	type zone struct {
		typ  string
		temp float64
	}
	var zones []zone
	for _, dir := range h.glob("/sys/class/thermal/thermal_zone*") {
		s, err := h.readString(dir + "/temp")
		if err != nil {
			continue
		}
		milli, err := strconv.ParseInt(s, 10, 64)
		if err != nil || milli < -50000 || milli > 200000 {
			continue
		}
		typ, _ := h.readString(dir + "/type")
		if typ == "" {
			typ = path.Base(dir)
		}
		zones = append(zones, zone{typ, float64(milli) / 1000})
	}
	if len(zones) == 0 {
		return Result{Name: "temperature", Status: Skip, Detail: "no thermal zone to read"}
	}
	best := -1
	for i, z := range zones {
		t := strings.ToLower(z.typ)
		if strings.Contains(t, "cpu") || strings.Contains(t, "soc") || strings.Contains(t, "x86_pkg") {
			if best < 0 || z.temp > zones[best].temp {
				best = i
			}
		}
	}
	if best < 0 {
		best = 0
	}
	z := zones[best]
	r := Result{Name: "temperature", Status: OK, Detail: fmt.Sprintf("%.1f °C (%s)", z.temp, z.typ)}
	if z.temp >= hotCelsius {
		r.Status = Warn
		r.Detail += ": hot enough to slow the CPU down"
		r.Fix = "cool the board: a heatsink and a fan, or a case with airflow"
	}
	return r
}

// throttleBits are the Raspberry Pi firmware's get_throttled flags (the
// same as `vcgencmd get_throttled`): bits 0-3 now, 16-19 since boot.
var throttleBits = [4]string{"under-voltage", "CPU frequency capped", "throttled", "soft temperature limit"}

// checkThrottling reads the Raspberry Pi firmware's throttling flags where
// the kernel exposes them (Raspberry Pi OS kernels).
func checkThrottling(h *Host) (Result, bool) {
	var s string
	for _, pattern := range []string{
		"/sys/devices/platform/soc/soc:firmware/get_throttled",
		"/sys/devices/platform/soc*/*firmware/get_throttled",
	} {
		for _, p := range h.glob(pattern) {
			if v, err := h.readString(p); err == nil {
				s = v
				break
			}
		}
		if s != "" {
			break
		}
	}
	if s == "" {
		return Result{}, false
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"), 16, 32)
	if err != nil {
		return Result{Name: "throttling", Status: Warn, Detail: fmt.Sprintf("unreadable flags %q", s)}, true
	}
	return throttleResult(uint32(v)), true
}

func throttleResult(v uint32) Result {
	r := Result{Name: "throttling", Status: OK, Detail: "none since boot"}
	var now, past []string
	for i, what := range throttleBits {
		if v&(1<<i) != 0 {
			now = append(now, what)
		} else if v&(1<<(16+i)) != 0 {
			past = append(past, what)
		}
	}
	if len(now)+len(past) == 0 {
		return r
	}
	r.Status = Warn
	var d []string
	if len(now) > 0 {
		d = append(d, "now: "+strings.Join(now, ", "))
	}
	if len(past) > 0 {
		d = append(d, "since boot: "+strings.Join(past, ", "))
	}
	r.Detail = fmt.Sprintf("%s (0x%x)", strings.Join(d, "; "), v)
	if v&(1|1<<16) != 0 {
		r.Fix = "use a power supply that holds 5 V under load (the official one: 3 A for a Pi 4, 5 A for a Pi 5); a Coral USB Accelerator draws up to 900 mA more, so give it a powered USB hub if the supply is weak"
	} else {
		r.Fix = "cool the board: a heatsink and a fan, or a case with airflow"
	}
	return r
}
