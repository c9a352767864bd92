package keras

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// limitProcess caps this process's address space at memory bytes above what
// it has already mapped, and its CPU time at cpu seconds. The Go runtime
// reserves over 1 GiB of address space at start (more under the race
// detector) that it never touches, so a cap on the total would mostly be
// spent before the file is opened; a cap above the current size leaves the
// whole budget to the read. Past the cap, mmap fails and the runtime dies
// with "fatal error: out of memory", which the parent reports.
func limitProcess(memory, cpu uint64) error {
	used, err := addressSpace()
	if err != nil {
		return err
	}
	as := used + memory*addressSpacePerHeapByte
	if as < used || memory > math.MaxUint64/addressSpacePerHeapByte {
		as = math.MaxUint64
	}
	if err := setLimit(syscall.RLIMIT_AS, as); err != nil {
		return fmt.Errorf("RLIMIT_AS: %w", err)
	}
	// At the CPU limit the kernel sends SIGKILL: a backstop for a child
	// spinning after its parent died.
	if err := setLimit(syscall.RLIMIT_CPU, cpu); err != nil {
		return fmt.Errorf("RLIMIT_CPU: %w", err)
	}
	// A child dying with GOTRACEBACK=crash must not write gigabytes of
	// core file.
	if err := setLimit(syscall.RLIMIT_CORE, 0); err != nil {
		return fmt.Errorf("RLIMIT_CORE: %w", err)
	}
	return nil
}

// childAttr puts the child in its own process group, so that Ctrl-C in a
// terminal reaches only the parent, which then stops the child through its
// context; otherwise a child killed by the same SIGINT could be reported as
// a corrupt file.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// setLimit lowers resource to v, never above the hard limit already set
// (raising it needs privileges).
func setLimit(resource int, v uint64) error {
	var cur syscall.Rlimit
	if err := syscall.Getrlimit(resource, &cur); err != nil {
		return err
	}
	v = min(v, uint64(cur.Max))
	return syscall.Setrlimit(resource, &syscall.Rlimit{Cur: v, Max: v})
}

// addressSpace returns this process's mapped address space (VmSize).
func addressSpace() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmSize:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/self/status: VmSize %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("/proc/self/status has no VmSize")
}

// selfPath is the file to start as the child: /proc/self/exe is this very
// executable even when the file at exe has since been replaced or deleted
// (an upgrade while converting, a "go run" binary cleaned up).
func selfPath(exe string) string {
	if _, err := os.Stat("/proc/self/exe"); err == nil {
		return "/proc/self/exe"
	}
	return exe
}
