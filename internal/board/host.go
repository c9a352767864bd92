package board

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// Host is the machine the checks look at.
type Host struct {
	// Root is the directory the machine's "/" is at: "/" on the board,
	// a fake tree in tests. Paths in results are the machine's, without
	// Root.
	Root string
	// GOARCH is the architecture of the agent binary (runtime.GOARCH): the
	// shared libraries must be built for it.
	GOARCH string
	// Machine is the kernel's architecture as uname -m prints it; ""
	// reads /proc/sys/kernel/arch under Root.
	Machine string
	// Getenv reads environment variables (LD_LIBRARY_PATH); nil reads
	// none.
	Getenv func(string) string
	// Access reports whether this user may open the device node name (a
	// path on the machine) for reading and writing: nil, or an error
	// wrapping fs.ErrPermission or fs.ErrNotExist. Nil Access asks
	// access(2) about the file under Root.
	Access func(name string) error
	// User is who runs the checks; nil when unknown.
	User *User
	// Executable is the agent binary, whose run path (DT_RUNPATH, set by
	// -Wl,-rpath at link time) the dynamic linker searches for the
	// tflite build's libraries; "" for none.
	Executable string
}

// User is the account the checks run as.
type User struct {
	Name   string
	UID    int
	Groups []string
}

// Local returns the Host of the machine this program runs on.
func Local() Host {
	h := Host{Root: "/", GOARCH: runtime.GOARCH, Machine: uname(), Getenv: os.Getenv}
	if exe, err := os.Executable(); err == nil {
		h.Executable = exe
	}
	if u, err := currentUser(); err == nil {
		h.User = u
	}
	return h
}

func currentUser() (*User, error) {
	cu, err := user.Current()
	if err != nil {
		return nil, err
	}
	uid, err := strconv.Atoi(cu.Uid)
	if err != nil {
		return nil, err
	}
	u := &User{Name: cu.Username, UID: uid}
	gids, err := os.Getgroups()
	if err != nil {
		return u, nil
	}
	for _, gid := range gids {
		name := strconv.Itoa(gid)
		if g, err := user.LookupGroupId(name); err == nil {
			name = g.Name
		}
		u.Groups = append(u.Groups, name)
	}
	return u, nil
}

// binaryArch describes the agent binary: "linux/arm64", "linux/arm
// (GOARM=7)".
func (h *Host) binaryArch() string {
	s := "linux/" + h.GOARCH
	if h.GOARCH != "arm" || runtime.GOARCH != "arm" {
		return s
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, kv := range bi.Settings {
			if kv.Key == "GOARM" {
				return s + " (GOARM=" + kv.Value + ")"
			}
		}
	}
	return s
}

// path turns a machine path into a path on this file system.
func (h *Host) path(name string) string {
	return filepath.Join(h.Root, filepath.FromSlash(name))
}

// maxRead bounds what is read from a sysfs or proc file (they are small;
// a fake tree might not be).
const maxRead = 1 << 20

func (h *Host) readFile(name string) ([]byte, error) {
	f, err := os.Open(h.path(name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxRead))
}

// readString reads a one-value file: trimmed of white space and of the
// NUL that devicetree strings end with.
func (h *Host) readString(name string) (string, error) {
	b, err := h.readFile(name)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(bytes.TrimRight(b, "\x00\n"))), nil
}

// glob returns the machine paths matching pattern, in the order that sorts
// numbers by value (video2 before video10).
func (h *Host) glob(pattern string) []string {
	m, err := filepath.Glob(h.path(pattern))
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(m))
	for _, p := range m {
		out = append(out, h.machinePath(p))
	}
	slices.SortFunc(out, naturalCompare)
	return out
}

// machinePath turns a path under Root back into the machine's path.
func (h *Host) machinePath(p string) string {
	rel, err := filepath.Rel(h.Root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return p
	}
	return path.Join("/", filepath.ToSlash(rel))
}

// exists reports whether the machine path is there (following links).
func (h *Host) exists(name string) bool {
	_, err := os.Stat(h.path(name))
	return err == nil
}

// isRegular reports whether the machine path is a regular file or a link
// to one.
func (h *Host) isRegular(name string) bool {
	fi, err := os.Stat(h.path(name))
	return err == nil && fi.Mode().IsRegular()
}

// access asks whether this user may open the device node name for reading
// and writing.
func (h *Host) access(name string) error {
	if h.Access != nil {
		return h.Access(name)
	}
	p := h.path(name)
	if _, err := os.Stat(p); err != nil {
		return err
	}
	if err := accessRW(p); err != nil {
		return fmt.Errorf("%s (%s): %w", name, nodeOwner(p), err)
	}
	return nil
}

// getenv reads an environment variable, "" without Getenv.
func (h *Host) getenv(k string) string {
	if h.Getenv == nil {
		return ""
	}
	return h.Getenv(k)
}

// inGroup reports whether the user is known to be in the group (false
// when the user is unknown).
func (h *Host) inGroup(g string) bool {
	return h.User != nil && slices.Contains(h.User.Groups, g)
}

// userName is the user's name for fixes ("$USER" when unknown).
func (h *Host) userName() string {
	if h.User == nil || h.User.Name == "" {
		return "$USER"
	}
	return h.User.Name
}

// machine is the kernel's architecture, "" when unknown.
func (h *Host) machine() string {
	if h.Machine != "" {
		return h.Machine
	}
	s, _ := h.readString("/proc/sys/kernel/arch")
	return s
}

// isPermission reports whether err says access was refused.
func isPermission(err error) bool { return errors.Is(err, fs.ErrPermission) }

// naturalCompare orders strings with digit runs compared by value.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitPrefix(a), digitPrefix(b)
		if da > 0 && db > 0 {
			na, _ := strconv.ParseUint(a[:da], 10, 64)
			nb, _ := strconv.ParseUint(b[:db], 10, 64)
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			if a[0] < b[0] {
				return -1
			}
			return 1
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitPrefix(s string) int {
	n := 0
	for n < len(s) && n < 18 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
