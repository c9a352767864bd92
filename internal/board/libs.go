package board

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fruitcam/fruitcam/infer/delegate"
)

// The shared libraries of the tflite build.
const (
	// LibTFLite is the TensorFlow Lite C library the tflite build links.
	LibTFLite = "libtensorflowlite_c.so"
	// LibExternalDelegate is TFLite's external delegate library, which
	// infer/delegate dlopens to load libedgetpu as a plugin.
	LibExternalDelegate = "libexternal_delegate_obj.so"
	// LibEdgeTPU is Coral's Edge TPU runtime (delegate.EdgeTPULibrary).
	LibEdgeTPU = "libedgetpu.so.1"
)

// libSpec is what the agent needs of a library.
type libSpec struct {
	name string
	// symbols must be exported: for the C library, every function
	// go-tflite v1.0.5 and infer's tflite engine link against (one missing
	// and the tflite binary does not start); for the others, what
	// infer/delegate looks up with dlsym.
	symbols []string
	// linked: found by the dynamic linker at start-up (ld.so's search),
	// rather than dlopened by path.
	linked bool
	need   func(*Env) Need
	// missingFix says how to install it; arch is the binary's GOARCH.
	missingFix func(arch string) string
	// wrongFix says what to do about a library that is not the one we
	// need (missing symbols).
	wrongFix string
}

var libSpecs = []libSpec{
	{
		name: LibTFLite,
		symbols: []string{
			"TfLiteVersion",
			"TfLiteModelCreate", "TfLiteModelCreateFromFile", "TfLiteModelDelete",
			"TfLiteInterpreterOptionsCreate", "TfLiteInterpreterOptionsDelete",
			"TfLiteInterpreterOptionsSetNumThreads", "TfLiteInterpreterOptionsAddDelegate",
			"TfLiteInterpreterOptionsSetErrorReporter",
			"TfLiteInterpreterOptionsAddBuiltinOp", "TfLiteInterpreterOptionsAddCustomOp",
			"TfLiteInterpreterOptionsSetUseNNAPI",
			"TfLiteInterpreterCreate", "TfLiteInterpreterDelete",
			"TfLiteInterpreterAllocateTensors", "TfLiteInterpreterInvoke",
			"TfLiteInterpreterResetVariableTensors", "TfLiteInterpreterResizeInputTensor",
			"TfLiteInterpreterGetInputTensorCount", "TfLiteInterpreterGetInputTensor",
			"TfLiteInterpreterGetOutputTensorCount", "TfLiteInterpreterGetOutputTensor",
			"TfLiteTensorType", "TfLiteTensorNumDims", "TfLiteTensorDim",
			"TfLiteTensorByteSize", "TfLiteTensorData", "TfLiteTensorName",
			"TfLiteTensorQuantizationParams",
			"TfLiteTensorCopyFromBuffer", "TfLiteTensorCopyToBuffer",
		},
		linked: true,
		need:   (*Env).NeedTFLite,
		missingFix: func(arch string) string {
			if arch == "arm" {
				return "the TFLite npm package has no 32-bit ARM build: build libtensorflowlite_c.so 2.9 for armhf from TensorFlow's source (tensorflow/lite/c with CMake), install it in /usr/local/lib and run sudo ldconfig; or use a 64-bit OS and the arm64 agent"
			}
			return fmt.Sprintf("install TensorFlow Lite 2.9's C library for %s (make ref unpacks it into .tflite-ref/c/linux_%s) in /usr/local/lib and run sudo ldconfig, or point LD_LIBRARY_PATH at its directory", arch, arch)
		},
		wrongFix: "use TensorFlow Lite 2.9's C library (libtensorflowlite_c.so from the TFLite C distribution); a build without the experimental C API lacks what go-tflite links",
	},
	{
		name:    LibExternalDelegate,
		symbols: []string{"TfLiteExternalDelegateOptionsDefault", "TfLiteExternalDelegateCreate", "TfLiteExternalDelegateDelete"},
		need:    (*Env).needDelegate,
		missingFix: func(string) string {
			return "it ships beside libtensorflowlite_c.so in the TFLite C distribution (make ref unpacks it into .tflite-ref/c/linux_<arch>): put it next to libtensorflowlite_c.so or in a directory on LD_LIBRARY_PATH"
		},
		wrongFix: "use the libexternal_delegate_obj.so that ships with libtensorflowlite_c.so 2.9",
	},
	{
		name:    LibEdgeTPU,
		symbols: []string{"tflite_plugin_create_delegate", "tflite_plugin_destroy_delegate", "edgetpu_version"},
		need:    (*Env).needDelegate,
		missingFix: func(string) string {
			return "install libedgetpu1-std (or libedgetpu1-max) from Coral's apt repository: add \"deb https://packages.cloud.google.com/apt coral-edgetpu-stable main\" (https://coral.ai/software/#debian-packages), then apt-get install libedgetpu1-std"
		},
		wrongFix: "reinstall Coral's runtime: apt-get install --reinstall libedgetpu1-std",
	},
}

// libraryDirs mirrors infer/delegate's search (FindEdgeTPULibrary): the
// directories of LD_LIBRARY_PATH, then /usr/lib/<triplet>, /usr/local/lib
// and /usr/lib. It is the dynamic linker's order too, for the directories
// a Debian system has in its cache.
func (h *Host) libraryDirs() []string {
	var dirs []string
	for _, d := range filepath.SplitList(h.getenv("LD_LIBRARY_PATH")) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	if t := delegate.MultiarchTriplet(h.GOARCH); t != "" {
		dirs = append(dirs, "/usr/lib/"+t)
	}
	return append(dirs, "/usr/local/lib", "/usr/lib")
}

// linkerDirs is where the dynamic linker looks for a library the binary
// links: LD_LIBRARY_PATH, the binary's own run path, then the system's
// directories.
func (h *Host) linkerDirs() []string {
	env := 0
	for _, d := range filepath.SplitList(h.getenv("LD_LIBRARY_PATH")) {
		if d != "" {
			env++
		}
	}
	all := h.libraryDirs()
	dirs := append(slices.Clip(all[:env]), executableRunpath(h.Executable)...)
	return slices.Compact(append(dirs, all[env:]...))
}

// executableRunpath reads the run path of the binary at p (a path on this
// file system, not under Root: it is the program running), "" entries and
// all, with $ORIGIN expanded. A static pure-Go binary has none.
func executableRunpath(p string) []string {
	if p == "" {
		return nil
	}
	f, err := elf.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	rp, _ := f.DynString(elf.DT_RUNPATH)
	if len(rp) == 0 {
		rp, _ = f.DynString(elf.DT_RPATH)
	}
	return expandRunpath(rp, filepath.Dir(p))
}

// expandRunpath splits DT_RUNPATH strings and expands $ORIGIN to dir.
func expandRunpath(rp []string, dir string) []string {
	var out []string
	for _, list := range rp {
		for _, d := range strings.Split(list, ":") {
			d = strings.ReplaceAll(strings.ReplaceAll(d, "${ORIGIN}", dir), "$ORIGIN", dir)
			if d != "" {
				out = append(out, path.Clean(d))
			}
		}
	}
	return out
}

// findLibrary returns the first dir/name that is a regular file (or a
// link to one), "" when none is.
func (h *Host) findLibrary(name string, dirs []string) string {
	for _, d := range dirs {
		p := path.Join(d, name)
		if h.isRegular(p) {
			return p
		}
	}
	return ""
}

// elfArch is an ELF flavour a GOARCH needs.
type elfArch struct {
	class   elf.Class
	machine elf.Machine
	name    string // as Debian calls it
}

func elfWant(goarch string) elfArch {
	switch goarch {
	case "amd64":
		return elfArch{elf.ELFCLASS64, elf.EM_X86_64, "x86-64"}
	case "arm64":
		return elfArch{elf.ELFCLASS64, elf.EM_AARCH64, "aarch64"}
	case "arm":
		return elfArch{elf.ELFCLASS32, elf.EM_ARM, "armhf"}
	case "386":
		return elfArch{elf.ELFCLASS32, elf.EM_386, "i386"}
	case "riscv64":
		return elfArch{elf.ELFCLASS64, elf.EM_RISCV, "riscv64"}
	}
	return elfArch{name: goarch}
}

// The ARM EABI float ABI flags (ELF for the Arm Architecture, e_flags).
const (
	efARMABIFloatSoft = 0x200
	efARMABIFloatHard = 0x400
)

// elfArchName names the flavour of an ELF file for messages.
func elfArchName(class elf.Class, m elf.Machine, flags uint32) string {
	switch m {
	case elf.EM_X86_64:
		return "x86-64"
	case elf.EM_AARCH64:
		return "aarch64"
	case elf.EM_386:
		return "i386"
	case elf.EM_RISCV:
		if class == elf.ELFCLASS64 {
			return "riscv64"
		}
	case elf.EM_ARM:
		if flags&efARMABIFloatSoft != 0 {
			return "armel (soft-float)"
		}
		return "armhf"
	}
	return fmt.Sprintf("%v %v", class, m)
}

// elfInfo is what the checks need from a shared library.
type elfInfo struct {
	arch     string // elfArchName
	archOK   bool   // matches the GOARCH asked for
	shared   bool   // ET_DYN
	exported map[string]bool
	needed   []string
	runpath  []string // DT_RUNPATH, else DT_RPATH, $ORIGIN expanded
}

// readELF reads the header, dynamic symbols and dynamic section of the
// file at p (a path on this file system; dir is its directory on the
// machine, for $ORIGIN).
func readELF(p, dir, goarch string) (info *elfInfo, err error) {
	osf, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer osf.Close()
	f, err := elf.NewFile(osf)
	if err != nil {
		return nil, err
	}
	// debug/elf trusts offsets in the file more than a doctor should
	// trust a file it was asked to look at because it seems broken.
	defer func() {
		if r := recover(); r != nil {
			info, err = nil, fmt.Errorf("malformed ELF file: %v", r)
		}
	}()
	want := elfWant(goarch)
	flags, err := elfFlags(osf, f)
	if err != nil {
		return nil, err
	}
	info = &elfInfo{
		arch:     elfArchName(f.Class, f.Machine, flags),
		archOK:   f.Class == want.class && f.Machine == want.machine,
		shared:   f.Type == elf.ET_DYN,
		exported: map[string]bool{},
	}
	if f.Machine == elf.EM_ARM && flags&efARMABIFloatSoft != 0 {
		info.archOK = false
	}
	syms, err := f.DynamicSymbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, err
	}
	for _, s := range syms {
		bind, typ := elf.ST_BIND(s.Info), elf.ST_TYPE(s.Info)
		if s.Section == elf.SHN_UNDEF || (bind != elf.STB_GLOBAL && bind != elf.STB_WEAK) {
			continue
		}
		if v := elf.ST_VISIBILITY(s.Other); v == elf.STV_HIDDEN || v == elf.STV_INTERNAL {
			continue
		}
		if typ == elf.STT_FUNC || typ == elf.STT_GNU_IFUNC || typ == elf.STT_OBJECT {
			info.exported[s.Name] = true
		}
	}
	info.needed, _ = f.ImportedLibraries()
	rp, _ := f.DynString(elf.DT_RUNPATH)
	if len(rp) == 0 {
		rp, _ = f.DynString(elf.DT_RPATH)
	}
	info.runpath = expandRunpath(rp, dir)
	return info, nil
}

// elfFlags reads e_flags, which debug/elf does not expose: after e_entry,
// e_phoff and e_shoff, at offset 36 in a 32-bit header, 48 in a 64-bit one.
func elfFlags(r io.ReaderAt, f *elf.File) (uint32, error) {
	off := int64(48)
	if f.Class == elf.ELFCLASS32 {
		off = 36
	}
	var b [4]byte
	if _, err := r.ReadAt(b[:], off); err != nil {
		return 0, fmt.Errorf("ELF header: %w", err)
	}
	return f.ByteOrder.Uint32(b[:]), nil
}

// checkLibraries finds and inspects the tflite build's libraries.
func checkLibraries(e *Env) []Result {
	var out []Result
	for _, spec := range libSpecs {
		out = append(out, e.checkLibrary(spec))
	}
	return out
}

func (e *Env) checkLibrary(spec libSpec) Result {
	h := e.Host
	dirs := h.libraryDirs()
	if spec.linked {
		dirs = h.linkerDirs()
	}
	if spec.name == LibExternalDelegate {
		// infer/delegate looks beside the loaded TFLite library first.
		if l := e.Libraries[LibTFLite]; l != nil && l.Path != "" {
			dirs = append([]string{path.Dir(l.Path)}, dirs...)
		}
	}
	lib := &Library{Name: spec.name}
	e.Libraries[spec.name] = lib
	r := Result{Name: spec.name}
	lib.Path = h.findLibrary(spec.name, dirs)
	need := spec.need(e)
	if lib.Path == "" {
		r.Status = need.Missing()
		r.Detail = "not found in " + strings.Join(dirs, ", ")
		switch {
		case need != NotNeeded:
		case e.Has("tflite") && e.Config != nil:
			r.Detail += "; backend " + e.Config.Model.Backend + " does not use it"
		case e.Has("tflite"):
			r.Detail += "; needed once a config chooses backend tflite, edgetpu or auto"
		default:
			r.Detail += "; only the tflite build uses it"
		}
		if r.Status != Skip {
			r.Fix = spec.missingFix(h.GOARCH)
		}
		return r
	}
	if p, ok := e.dpkgDB().owner(lib.Path); ok {
		lib.Package = p.String()
	}
	f := e.inspectLibrary(spec, lib.Path)
	var about []string
	if f.arch != "" {
		about = append(about, f.arch)
	}
	switch {
	case lib.Package != "":
		about = append(about, lib.Package)
	case spec.name == LibEdgeTPU:
		about = append(about, "not from a Debian package")
	}
	if f.note != "" {
		about = append(about, f.note)
	}
	r.Detail = lib.Path
	if len(about) > 0 {
		r.Detail += " (" + strings.Join(about, ", ") + ")"
	}
	switch {
	case f.problem != "":
		r.Status, r.Fix = Fail, f.fix
		r.Detail += ": " + f.problem
	case f.warn != "":
		lib.Usable = true
		r.Status, r.Fix = Warn, f.fix
		r.Detail += ": " + f.warn
	default:
		lib.Usable = true
		r.Status = OK
	}
	return r
}

// libFindings is what inspectLibrary has to say about a library.
type libFindings struct {
	arch    string // its ELF flavour, "" when unreadable
	problem string // why it will not work
	warn    string // what could bite
	fix     string // for problem or warn
	note    string // worth knowing
}

// inspectLibrary reads the library at p (a machine path) and says what is
// wrong with it.
func (e *Env) inspectLibrary(spec libSpec, p string) libFindings {
	h := e.Host
	want := elfWant(h.GOARCH)
	info, err := readELF(h.path(p), path.Dir(p), h.GOARCH)
	if err != nil {
		return libFindings{problem: fmt.Sprintf("not a readable shared library (%v)", unwrapPath(err)), fix: spec.wrongFix}
	}
	f := libFindings{arch: info.arch}
	if !info.archOK {
		f.problem = fmt.Sprintf("built for %s, but this agent is %s and needs %s", info.arch, h.binaryArch(), want.name)
		f.fix = fmt.Sprintf("install the %s build of %s (on Debian it belongs in /usr/lib/%s), or run an agent built for the library's architecture", want.name, spec.name, delegate.MultiarchTriplet(h.GOARCH))
		return f
	}
	if !info.shared {
		f.problem, f.fix = "not a shared library (ELF type is not ET_DYN)", spec.wrongFix
		return f
	}
	var missing []string
	for _, s := range spec.symbols {
		if !info.exported[s] {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		if len(missing) > 4 {
			missing = append(missing[:4], fmt.Sprintf("and %d more", len(missing)-4))
		}
		f.problem, f.fix = "does not export "+strings.Join(missing, ", "), spec.wrongFix
		return f
	}
	if dep, where := e.missingDependency(info); dep != "" {
		f.problem = fmt.Sprintf("needs %s, which is not installed for %s (looked in %s)", dep, want.name, where)
		f.fix = dependencyFix(dep, h.GOARCH)
		return f
	}
	if spec.name == LibTFLite && info.exported["TfLiteXNNPackDelegateCreate"] {
		f.note = "with XNNPACK"
	}
	if spec.linked {
		if w := e.notInLinkerCache(spec.name, p); w != "" {
			f.warn, f.fix = w, "run sudo ldconfig, or put its directory on LD_LIBRARY_PATH"
		}
	}
	return f
}

// missingDependency returns the first DT_NEEDED library that cannot be
// found for the binary's architecture, with the directories searched. The
// dynamic linker skips libraries of another architecture, so a candidate
// counts only when its ELF header matches.
func (e *Env) missingDependency(info *elfInfo) (string, string) {
	h := e.Host
	t := delegate.MultiarchTriplet(h.GOARCH)
	var dirs []string
	dirs = append(dirs, info.runpath...)
	dirs = append(dirs, h.libraryDirs()...)
	dirs = append(dirs, "/lib/"+t, "/lib", "/lib64", "/usr/lib64")
	dirs = slices.Compact(dirs)
	for _, dep := range info.needed {
		if strings.ContainsRune(dep, '/') {
			continue
		}
		found := false
		for _, d := range dirs {
			p := path.Join(d, dep)
			if !h.isRegular(p) {
				continue
			}
			if f, err := elf.Open(h.path(p)); err == nil {
				want := elfWant(h.GOARCH)
				ok := f.Class == want.class && f.Machine == want.machine
				f.Close()
				if ok {
					found = true
					break
				}
			}
		}
		if !found {
			return dep, strings.Join(dirs, ", ")
		}
	}
	return "", ""
}

// dependencyPackages names the Debian packages of libraries the tflite
// build's libraries are known to need.
var dependencyPackages = map[string]string{
	"libusb-1.0.so.0": "libusb-1.0-0",
	"libstdc++.so.6":  "libstdc++6",
	"libgcc_s.so.1":   "libgcc-s1",
	"libc++.so.1":     "libc++1",
	"libc++abi.so.1":  "libc++abi1",
}

func dependencyFix(dep, goarch string) string {
	arch := map[string]string{"amd64": "amd64", "arm64": "arm64", "arm": "armhf", "386": "i386", "riscv64": "riscv64"}[goarch]
	if pkg, ok := dependencyPackages[dep]; ok {
		return fmt.Sprintf("apt-get install %s:%s", pkg, arch)
	}
	return fmt.Sprintf("install the %s package that provides %s (apt-file search %s)", arch, dep, dep)
}

// notInLinkerCache warns about a library the dynamic linker will not find
// at start-up: found in a directory that is neither on LD_LIBRARY_PATH nor
// one ld.so searches by default, and absent from /etc/ld.so.cache (copied
// to /usr/local/lib without running ldconfig, the classic).
func (e *Env) notInLinkerCache(name, p string) string {
	h := e.Host
	dir := path.Dir(p)
	for _, d := range append(filepath.SplitList(h.getenv("LD_LIBRARY_PATH")), executableRunpath(h.Executable)...) {
		if path.Clean(d) == dir {
			return ""
		}
	}
	t := delegate.MultiarchTriplet(h.GOARCH)
	if slices.Contains([]string{"/lib", "/usr/lib", "/lib/" + t, "/usr/lib/" + t}, dir) {
		return ""
	}
	cache, err := h.readFile("/etc/ld.so.cache")
	if err != nil {
		return ""
	}
	if bytes.Contains(cache, []byte("/"+name+"\x00")) {
		return ""
	}
	return fmt.Sprintf("%s is not in the dynamic linker's cache, so the tflite agent will not start (\"error while loading shared libraries\")", dir)
}

// unwrapPath drops the "open /root/..." of a path error: the path is in
// the result already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	if errors.Is(err, os.ErrNotExist) {
		return os.ErrNotExist
	}
	return err
}
