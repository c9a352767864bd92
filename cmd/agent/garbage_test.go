package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/publish"
	"github.com/fruitcam/fruitcam/publish/publishtest"
)

// TestRunSurvivesGarbage publishes malformed and hostile payloads on the
// device's command topics while it runs: each gets an error reply (or is
// dropped with a log line when it cannot even be parsed as a command),
// and results keep coming, numbered without gaps.
func TestRunSurvivesGarbage(t *testing.T) {
	addr := freePort(t)
	cfg := testConfig(t, `cameras:
  - name: belt
    source: {type: pattern, width: 160, height: 120, rate: 30}
`+embeddedMQTT(t, addr))
	a, sub, cancel, done := startAgent(t, cfg, addr)
	defer cancel()
	isResult := func(m publishtest.Message) bool { return strings.HasSuffix(m.Topic, "/result") }
	sub.WaitFor(t, "a first result", isResult)

	big := bytes.Repeat([]byte("x"), publish.MaxCommandSize+1)
	for _, tc := range []struct {
		name, cmd string
		payload   []byte
		reply     string // "" when the payload is dropped before the handler
	}{
		{"not JSON", "pause", []byte("{pause"), ""},
		{"binary", "resume", []byte{0xff, 0x00, 0xfe, 0x80}, ""},
		{"too big", "snapshot", big, ""},
		{"wrong types", "trigger", []byte(`{"id": 7, "camera": ["belt"]}`), ""},
		{"unknown command", "selfdestruct", []byte(`{}`), "unknown"},
		{"no such camera", "snapshot", []byte(`{"camera":"../../etc"}`), "camera"},
		{"trigger without mqtt trigger", "trigger", []byte(`{"camera":"belt"}`), "no camera with an mqtt trigger"},
		{"reload", "reload", nil, "restart"},
	} {
		sub.Publish(t, "fruitcam/testbelt/cmd/"+tc.cmd, tc.payload)
		if tc.reply == "" {
			continue
		}
		m := sub.WaitFor(t, tc.name+" reply", func(m publishtest.Message) bool { return m.Topic == "fruitcam/testbelt/cmd/"+tc.cmd+"/reply" })
		rep, err := publish.DecodeReply(m.Payload)
		if err != nil || rep.OK || !strings.Contains(rep.Error, tc.reply) {
			t.Errorf("%s: reply %s (%v), want an error with %q", tc.name, m.Payload, err, tc.reply)
		}
	}
	// Still classifying after all that.
	before := a.stats().Items
	deadline := time.Now().Add(10 * time.Second)
	for a.stats().Items < before+10 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if a.stats().Items < before+10 {
		t.Fatalf("the agent stopped producing results after the garbage (%d, then %d)", before, a.stats().Items)
	}
	stopAgent(t, cancel, done)
	waitAllResults(t, sub, a.stats().Items)
}
