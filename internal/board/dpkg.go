package board

import (
	"bufio"
	"bytes"
	"path"
	"strings"
)

// dpkgPackage is one stanza of /var/lib/dpkg/status (deb-status(5)).
type dpkgPackage struct {
	Name, Arch, Version string
	Installed           bool // Status is "install ok installed"
}

// String is "name version", with the architecture when it is not the
// package's only possible one.
func (p dpkgPackage) String() string {
	s := p.Name
	if p.Arch != "" && p.Arch != "all" {
		s += ":" + p.Arch
	}
	return s + " " + p.Version
}

// parseDpkgStatus reads the stanzas of a dpkg status file: "Field: value"
// lines, continuation lines starting with a space or tab, stanzas
// separated by blank lines. Malformed lines are skipped, as dpkg-query
// would refuse them anyway.
func parseDpkgStatus(data []byte) []dpkgPackage {
	var out []dpkgPackage
	var cur dpkgPackage
	var status string
	flush := func() {
		if cur.Name != "" {
			f := strings.Fields(status)
			cur.Installed = len(f) == 3 && f[2] == "installed"
			out = append(out, cur)
		}
		cur, status = dpkgPackage{}, ""
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Package":
			cur.Name = v
		case "Architecture":
			cur.Arch = v
		case "Version":
			cur.Version = v
		case "Status":
			status = v
		}
	}
	flush()
	return out
}

// dpkgDB is the machine's dpkg database, read once.
type dpkgDB struct {
	h        *Host
	packages []dpkgPackage
	owners   map[string]string // file → package name[:arch], filled lazily
}

// dpkgDB reads the dpkg database on first use. A machine without dpkg
// (Yocto, Alpine) gives an empty one.
func (e *Env) dpkgDB() *dpkgDB {
	if e.dpkg == nil {
		db := &dpkgDB{h: e.Host}
		if b, err := e.Host.readFile("/var/lib/dpkg/status"); err == nil {
			db.packages = parseDpkgStatus(b)
		}
		e.dpkg = db
	}
	return e.dpkg
}

// arch is the userland's architecture: dpkg's own package is always of
// the native architecture.
func (db *dpkgDB) arch() string {
	if p, ok := db.installed("dpkg", ""); ok {
		return p.Arch
	}
	return ""
}

// installed returns the installed package name (of arch, or any when arch
// is "").
func (db *dpkgDB) installed(name, arch string) (dpkgPackage, bool) {
	for _, p := range db.packages {
		if p.Installed && p.Name == name && (arch == "" || p.Arch == arch || p.Arch == "all") {
			return p, true
		}
	}
	return dpkgPackage{}, false
}

// owner returns the installed package that ships the file (a machine
// path), looked up in /var/lib/dpkg/info/*.list as dpkg -S does. Paths
// are compared with and without /usr, since merged-/usr systems list
// /lib/... for files found under /usr/lib/....
func (db *dpkgDB) owner(file string) (dpkgPackage, bool) {
	if len(db.packages) == 0 {
		return dpkgPackage{}, false
	}
	if db.owners == nil {
		db.owners = map[string]string{}
		for _, list := range db.h.glob("/var/lib/dpkg/info/*.list") {
			b, err := db.h.readFile(list)
			if err != nil {
				continue
			}
			pkg := strings.TrimSuffix(path.Base(list), ".list")
			for _, f := range strings.Split(string(b), "\n") {
				if strings.HasSuffix(f, ".so") || strings.Contains(f, ".so.") {
					db.owners[f] = pkg
				}
			}
		}
	}
	alt := "/usr" + file
	if rest, ok := strings.CutPrefix(file, "/usr"); ok {
		alt = rest
	}
	pkg, ok := db.owners[file]
	if !ok {
		if pkg, ok = db.owners[alt]; !ok {
			return dpkgPackage{}, false
		}
	}
	name, arch, _ := strings.Cut(pkg, ":")
	return db.installed(name, arch)
}
