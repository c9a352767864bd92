package delegate

import (
	"strings"
	"testing"
)

func TestExplainEdgeTPUError(t *testing.T) {
	tests := []struct {
		msg  string
		want []string // in the hint; nil: msg comes back unchanged
	}{
		{"Failed to prepare for TPU. Failed precondition: Package requires runtime version (14), which is newer than this runtime version (13).; Node number 1 (EdgeTpuDelegateForCustomOp) failed to prepare.",
			[]string{"compiled for Edge TPU runtime 14", "libedgetpu is runtime 13", "libedgetpu1-std 16.0", "edgetpu_compiler -m 13"}},
		{"Internal: Unsupported data type in custom op handler: 24348008; Node number 2 (EdgeTpuDelegateForCustomOp) failed to prepare.",
			[]string{"different TensorFlow releases", "2.5 to 2.11", "agent doctor"}},
		{"Encountered unresolved custom op: edgetpu-custom-op.; Node number 0 (edgetpu-custom-op) failed to prepare.",
			[]string{"no Edge TPU delegate ran", "backend edgetpu"}},
		{"Failed to execute request. Not found: USB transfer error 5 [LibUsbDataOutCallback]; Node number 1 (EdgeTpuDelegateForCustomOp) failed to invoke.",
			[]string{"stopped answering", "powered hub", "lsusb"}},
		{"Failed to execute request. Deadline exceeded: USB transfer timed out", []string{"stopped answering"}},
		{"Failed to prepare for TPU. Failed precondition: something else", []string{"present state", "runtime"}},
		{"Failed to prepare for TPU. Internal: unknown", []string{"could not load the model onto the Edge TPU"}},
		{"tensorflow/lite/kernels/reshape.cc:85 num_input_elements != num_output_elements (2002 != 1001)", nil},
		{"", nil},
	}
	for _, tt := range tests {
		got := ExplainEdgeTPUError(tt.msg)
		if tt.want == nil {
			if got != tt.msg {
				t.Errorf("ExplainEdgeTPUError(%q) = %q, want it unchanged", tt.msg, got)
			}
			continue
		}
		if !strings.HasPrefix(got, tt.msg+" (") || !strings.HasSuffix(got, ")") {
			t.Errorf("ExplainEdgeTPUError(%q) = %q: want the message then the hint in parentheses", tt.msg, got)
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("ExplainEdgeTPUError(%q) = %q: no %q", tt.msg, got, w)
			}
		}
	}
}
