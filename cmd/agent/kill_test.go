package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/publish/publishtest"
)

// agentChildEnv makes this test binary run the agent itself (TestMain), so
// a test can kill a real agent process.
const agentChildEnv = "FRUITCAM_TEST_AGENT_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(agentChildEnv); args != "" {
		os.Exit(run(strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// startAgentProcess runs `agent run --config cfg` as a child process.
func startAgentProcess(t *testing.T, cfg string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), agentChildEnv+"="+strings.Join([]string{"run", "--config", cfg}, "\x1f"))
	log, err := os.Create(filepath.Join(t.TempDir(), "agent.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

// TestAgentKilled kills the agent process (SIGKILL: a crash, a power cut
// of the agent alone) while it is cut off from the broker with results
// waiting on disk, and starts it again: the new process delivers what the
// dead one had accepted, and its own results continue the seqs.
func TestAgentKilled(t *testing.T) {
	m := publishtest.StartMosquitto(t)
	proxy := publishtest.NewProxy(t, m.Addr())
	dir := t.TempDir()
	cfg := spoolConfig(t, proxy.URL(), filepath.Join(dir, "spool"))
	cfgPath := writeConfigFile(t, cfg, dir)
	sub := publishtest.Subscribe(t, publishtest.Conn{Broker: m.URL()}, "fruitcam/testbelt/+/result")
	isResult := func(publishtest.Message) bool { return true }

	cmd := startAgentProcess(t, cfgPath)
	sub.WaitFor(t, "a result from the first process", isResult)
	proxy.Cut()
	time.Sleep(time.Second) // about 50 results accepted into the disk queue meanwhile
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	before := len(sub.Received())

	proxy.Resume()
	cmd = startAgentProcess(t, cfgPath)
	time.Sleep(time.Second)
	cmd.Process.Signal(syscall.SIGTERM) // a clean stop: it delivers what it has
	if err := cmd.Wait(); err != nil {
		t.Fatalf("second process: %v", err)
	}
	// Every seq up to the highest one received arrived: those the killed
	// process had accepted (on disk, synced) and the second process's.
	var last uint64
	for _, msg := range sub.Received() {
		if r, ok := seqOf(msg); ok {
			last = max(last, r)
		}
	}
	t.Logf("%d results before the kill reached the broker; %d seqs in all", before, last)
	if last <= uint64(before) {
		t.Fatalf("nothing arrived after the kill (last seq %d)", last)
	}
	waitAllResults(t, sub, last)
}

// seqOf reads a result message's seq.
func seqOf(m publishtest.Message) (uint64, bool) {
	var r struct{ Seq uint64 }
	if !strings.HasSuffix(m.Topic, "/result") || json.Unmarshal(m.Payload, &r) != nil {
		return 0, false
	}
	return r.Seq, true
}
