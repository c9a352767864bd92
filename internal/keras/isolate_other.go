//go:build !linux

package keras

import "syscall"

// limitProcess sets no hard limit off Linux: RLIMIT_AS is not enforced on
// macOS and does not exist on Windows. The child still runs under the soft
// runtime/debug.SetMemoryLimit set by applyLimits and the parent's time
// limit, and a file that exhausts memory takes down only the child.
func limitProcess(memory, cpu uint64) error { return nil }

// childAttr sets nothing special for the child off Linux.
func childAttr() *syscall.SysProcAttr { return nil }

// selfPath is the file to start as the child.
func selfPath(exe string) string { return exe }
