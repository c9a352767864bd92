package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fruitcam/fruitcam/publish"
	"github.com/fruitcam/fruitcam/publish/publishtest"
)

// TestCommandExplain: `agent command explain` sends the camera, label
// and samples, writes the PNG the agent replies with to --out and says
// so in one line; an error reply (a camera the device does not have) is
// printed, exits 1 and writes nothing.
func TestCommandExplain(t *testing.T) {
	addr := freePort(t)
	cfg := explainConfig(t, addr)
	dir := t.TempDir()
	cfgPath := writeConfigFile(t, cfg, dir)
	a, sub, cancel, done := startAgent(t, cfg, addr)
	defer cancel()
	sub.Expect(t, "fruitcam/testbelt/status", "online")
	sub.WaitFor(t, "a result", func(m publishtest.Message) bool { return m.Topic == "fruitcam/testbelt/belt/result" })
	operator := []string{"command", "--config", cfgPath, "--user", "operator", "--password-env", "VIEWER_TEST_PW"}

	out := filepath.Join(dir, "belt.png")
	var stdout, stderr bytes.Buffer
	args := append(operator[:len(operator):len(operator)], "--camera", "belt", "--label", "corner", "--samples", "300", "--out", out, "explain")
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("agent command explain: exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("wrote %s (%d bytes)\n", out, len(b)); stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", out, err)
	}
	if img.Bounds() != image.Rect(0, 0, 64, 64) {
		t.Errorf("PNG %v, want the frame's 64×64", img.Bounds())
	}
	// The folder shows the same image every time, so the agent explains
	// any item to the same bytes: the file is the reply to our payload.
	want, err := a.explain([]byte(`{"camera":"belt","label":"corner","samples":300}`))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Error("the file differs from the PNG the agent makes for camera belt, label corner, 300 samples")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("%d files in the output folder, want agent.yaml and belt.png (no temporary file left)", len(entries))
	}

	// An error reply: printed as JSON, exit 1, no file.
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown camera", []string{"--camera", "gate"}, `"gate" is not one of the 1 cameras`},
		{"unknown label", []string{"--label", "banana"}, `label "banana"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.png")
			stdout.Reset()
			stderr.Reset()
			args := append(operator[:len(operator):len(operator)], tt.args...)
			args = append(args, "--out", bad, "explain")
			if code := run(args, &stdout, &stderr); code != 1 {
				t.Fatalf("exit %d, want 1; stdout %s stderr %s", code, stdout.String(), stderr.String())
			}
			r, err := publish.DecodeReply(bytes.TrimSpace(stdout.Bytes()))
			if err != nil || r.OK || !strings.Contains(r.Error, tt.want) {
				t.Errorf("stdout %q (%v), want the JSON error reply with %q", stdout.String(), err, tt.want)
			}
			if !strings.Contains(stderr.String(), "explain refused") {
				t.Errorf("stderr %q, want explain refused", stderr.String())
			}
			if _, err := os.Stat(bad); !os.IsNotExist(err) {
				t.Errorf("%s: %v, want no file", bad, err)
			}
		})
	}
	stopAgent(t, cancel, done)
}

// TestCommandExplainUsage: explain without --out, and explain's flags on
// other commands, are usage errors (exit 2) before anything is sent.
func TestCommandExplainUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"explain without out", []string{"explain"}, "give --out FILE.png"},
		{"out on pause", []string{"--out", "x.png", "pause"}, "are for explain, not pause"},
		{"samples on snapshot", []string{"--samples", "5", "snapshot"}, "are for explain, not snapshot"},
		{"label on trigger", []string{"--label", "banana", "trigger"}, "are for explain, not trigger"},
		{"negative samples", []string{"--samples", "-1", "--out", "x.png", "explain"}, "--samples -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"command", "--config", "does-not-matter.yaml"}, tt.args...)
			if code := run(args, &stdout, &stderr); code != 2 {
				t.Fatalf("exit %d, want 2; stderr %s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q, want %q", stderr.String(), tt.want)
			}
		})
	}
}
