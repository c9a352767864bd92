//go:build tflite && cgo

package main

import (
	"fmt"
	"strings"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/delegate"
	"github.com/fruitcam/fruitcam/internal/board"
)

// The tflite build checks what the pure-Go checks can only look at: the
// library this binary runs on, and libedgetpu loaded for real, with the
// delegate created on the TPU the config selects.
func init() {
	board.Extra = append(board.Extra, board.Check{Group: "tflite", Run: tfliteChecks})
}

func tfliteChecks(env *board.Env) []board.Result {
	// This binary is running, so its libtensorflowlite_c.so was found and
	// loaded: say which and what version.
	out := []board.Result{{
		Name: "TensorFlow Lite", Status: board.OK,
		Detail: fmt.Sprintf("%s loaded (version %s)", tflitePath(env), infer.Version()),
	}}
	device := ""
	if env.Config != nil {
		device = env.Config.Model.EdgeTPU.Device
	}
	info, err := delegate.ProbeEdgeTPU(device)
	need := env.NeedEdgeTPU()
	r := board.Result{Name: "Edge TPU delegate"}
	switch {
	case err == nil:
		r.Status = board.OK
		r.Detail = fmt.Sprintf("created on %s by %s (%s)", orAny(device), info.Library, versionText(info))
	case info.Library == "":
		r.Status, r.Detail = need.Missing(), err.Error()
		if r.Status != board.Skip {
			r.Fix = "install libedgetpu1-std from Coral's apt repository (https://coral.ai/software/#debian-packages)"
		}
	default:
		r.Status = need.Missing()
		if r.Status == board.Skip {
			r.Status = board.Warn // the library is there but does not work: say so
		}
		r.Detail = fmt.Sprintf("%s (%s): %v", info.Library, versionText(info), err)
		r.Fix = edgeTPUFix(info, err)
	}
	out = append(out, r)
	if info.Note != "" {
		out = append(out, board.Result{Name: "Edge TPU versions", Status: board.Warn, Detail: info.Note,
			Fix: "use the libedgetpu and TensorFlow Lite pairs the README lists (\"Which versions go together\")"})
	}
	for _, d := range info.Devices {
		out = append(out, board.Result{Name: "TPU " + d.Selector, Status: board.OK, Detail: d.Type + " " + d.Path})
	}
	return out
}

func tflitePath(env *board.Env) string {
	if l := env.Libraries[board.LibTFLite]; l != nil && l.Path != "" {
		return l.Path
	}
	return board.LibTFLite
}

func orAny(device string) string {
	if device == "" {
		return "the first Edge TPU"
	}
	return device
}

func versionText(info delegate.EdgeTPUInfo) string {
	var parts []string
	if info.Release != "" {
		parts = append(parts, info.Release)
	} else if info.Version != "" {
		parts = append(parts, info.Version)
	}
	if info.TFLiteVersion != "" {
		parts = append(parts, "TensorFlow Lite "+info.TFLiteVersion)
	}
	if len(parts) == 0 {
		return "version unknown"
	}
	return strings.Join(parts, ", ")
}

// edgeTPUFix says what to do about a libedgetpu that loaded but made no
// delegate.
func edgeTPUFix(info delegate.EdgeTPUInfo, err error) string {
	switch {
	case len(info.Devices) == 0:
		return "plug the accelerator in (USB 3 port) or check /dev/apex_0 and the gasket driver; a TPU in use by a running agent is not seen"
	case info.Device != "":
		return "set model.edgetpu.device to one of the TPUs listed below, or leave it empty for any"
	}
	return "see the error; the README's \"TensorFlow Lite, XNNPACK and the Coral Edge TPU\" lists the known ones"
}
