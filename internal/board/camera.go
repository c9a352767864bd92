package board

import (
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fruitcam/fruitcam/internal/config"
)

// notCameraPrefixes are V4L2 device names that are memory-to-memory
// codecs and ISPs, not cameras: a Raspberry Pi has a dozen of them.
var notCameraPrefixes = []string{"bcm2835-codec", "bcm2835-isp", "pispbe", "rpi-hevc", "vicodec", "vim2m"}

// rawCameraPrefixes are CSI receivers that deliver raw Bayer frames for
// libcamera to process, which fruitcam (YUYV, MJPEG, NV12, GREY) cannot
// read.
var rawCameraPrefixes = []string{"unicam", "rp1-cfe"}

// checkCameras lists the V4L2 cameras and whether this user may open them.
func checkCameras(e *Env) []Result {
	h := e.Host
	used := e.configCameras()
	var out []Result
	var other []string
	seen := map[string]bool{}
	for _, node := range h.glob("/dev/video*") {
		seen[node] = true
		base := path.Base(node)
		sys := "/sys/class/video4linux/" + base
		// A UVC camera has a second node (index 1) for metadata.
		if idx, err := h.readString(sys + "/index"); err == nil && idx != "0" {
			continue
		}
		name, _ := h.readString(sys + "/name")
		// A CSI receiver's embedded-data node carries sensor metadata.
		if hasAnyPrefix(name, notCameraPrefixes) || strings.HasSuffix(name, "-embedded") {
			other = append(other, base)
			continue
		}
		r := Result{Name: base, Status: OK, Detail: name}
		if r.Detail == "" {
			r.Detail = "unnamed V4L2 device"
		}
		if cams, ok := used[node]; ok {
			r.Detail += " (" + cams + ")"
		}
		if err := h.access(node); err != nil {
			r.Status = Fail
			r.Detail += ": " + accessProblem(err)
			u := h.userName()
			r.Fix = fmt.Sprintf("add %s to group video (sudo usermod -aG video %s) and log in again", u, u)
		} else if hasAnyPrefix(name, rawCameraPrefixes) {
			r.Status = Warn
			r.Detail += ": a CSI camera that gives raw Bayer frames for libcamera, not a format fruitcam reads"
			r.Fix = "use a USB (UVC) camera, or the legacy camera stack (Raspberry Pi OS Bullseye: raspi-config, Legacy Camera)"
		}
		out = append(out, r)
	}
	for _, node := range slices.Sorted(maps.Keys(used)) {
		if !seen[node] {
			out = append(out, Result{
				Name: path.Base(node), Status: Warn,
				Detail: fmt.Sprintf("%s (%s) is not present; the agent waits for it", node, used[node]),
				Fix:    "plug the camera in, or correct the device in the config (a stable name: ls -l /dev/v4l/by-id)",
			})
		}
	}
	if len(other) > 0 {
		out = append(out, Result{Name: "other", Status: Skip, Detail: fmt.Sprintf("%s: %d codec, ISP or metadata nodes, not cameras", strings.Join(other, " "), len(other))})
	}
	if len(out) == 0 {
		return []Result{{Name: "video", Status: Skip, Detail: "no /dev/video* devices; only v4l2 sources use one"}}
	}
	return out
}

// configCameras maps the device nodes the config's v4l2 sources open to
// the cameras' names ("cameras[0] top"). A source may name a stable link
// (/dev/v4l/by-id/...): it is resolved to the node it points at.
func (e *Env) configCameras() map[string]string {
	out := map[string]string{}
	if e.Config == nil {
		return out
	}
	for i, c := range e.Config.Cameras {
		if c.Source.Type != config.SourceV4L2 || c.Source.Device == "" {
			continue
		}
		node := e.Host.resolve(c.Source.Device)
		label := fmt.Sprintf("cameras[%d] %s", i, c.Name)
		if prev, ok := out[node]; ok {
			label = prev + ", " + label
		}
		out[node] = label
	}
	return out
}

// resolve follows links of a machine path within Root.
func (h *Host) resolve(name string) string {
	p, err := filepath.EvalSymlinks(h.path(name))
	if err != nil {
		return name
	}
	if _, err := os.Stat(p); err != nil {
		return name
	}
	return h.machinePath(p)
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
