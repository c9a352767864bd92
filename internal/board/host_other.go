//go:build !linux

package board

import "os"

// uname is unknown off Linux: the checks are for Linux boards, and read
// the kernel's architecture from a fake tree in tests.
func uname() string { return "" }

// accessRW tries to open p for reading and writing, the best that can be
// done without access(2).
func accessRW(p string) error {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	return f.Close()
}

func nodeOwner(p string) string {
	fi, err := os.Stat(p)
	if err != nil {
		return "unknown owner"
	}
	return fi.Mode().String()
}
