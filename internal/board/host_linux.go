//go:build linux

package board

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// uname returns the kernel's machine name (uname -m), "" when unknown.
func uname() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return ""
	}
	b := make([]byte, 0, len(u.Machine))
	for _, c := range u.Machine {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

// accessRW asks access(2) whether the real user may read and write p. It
// opens nothing: opening a TPU or camera node can wake the device up.
func accessRW(p string) error {
	const rOK, wOK = 4, 2
	if err := syscall.Access(p, rOK|wOK); err != nil {
		return &os.PathError{Op: "access", Path: p, Err: err}
	}
	return nil
}

// nodeOwner describes a file's mode and owners for a permission message:
// "crw-rw-r-- root:plugdev".
func nodeOwner(p string) string {
	fi, err := os.Stat(p)
	if err != nil {
		return "unknown owner"
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fi.Mode().String()
	}
	owner := strconv.FormatUint(uint64(st.Uid), 10)
	if u, err := user.LookupId(owner); err == nil {
		owner = u.Username
	}
	group := strconv.FormatUint(uint64(st.Gid), 10)
	if g, err := user.LookupGroupId(group); err == nil {
		group = g.Name
	}
	return fmt.Sprintf("%v %s:%s", fi.Mode(), owner, group)
}
