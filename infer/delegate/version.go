package delegate

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// EdgeTPUVersion is libedgetpu's edgetpu_version() text, parsed. Coral's
// packages say
//
//	BuildLabel(COMPILER=6.3.0 20170516,DATE=redacted,TIME=redacted), RuntimeVersion(14)
//
// (libedgetpu 16.0), older ones add CL_NUMBER=..., and a library built from
// github.com/google-coral/libedgetpu carries its real build date.
type EdgeTPUVersion struct {
	Text     string
	Runtime  int    // N of RuntimeVersion(N): what compiled models ask for
	Compiler string // COMPILER of the build label
	Date     string // DATE of the build label: "redacted" in Coral's packages
	CL       int64  // CL_NUMBER of the build label, 0 when absent
}

// CoralPackage tells whether the library is one Coral built and shipped
// (libedgetpu1-std, libedgetpu1-max, the Windows and macOS runtime
// archives): those redact the build date, builds from source do not.
func (v EdgeTPUVersion) CoralPackage() bool { return v.Date == "redacted" }

var runtimeVersionRE = regexp.MustCompile(`RuntimeVersion\((\d{1,6})\)`)

// ParseEdgeTPUVersion parses what edgetpu_version() returns. Only
// RuntimeVersion(N) is required; an unreadable build label leaves its
// fields empty.
func ParseEdgeTPUVersion(s string) (EdgeTPUVersion, error) {
	v := EdgeTPUVersion{Text: s}
	m := runtimeVersionRE.FindStringSubmatchIndex(s)
	if m == nil {
		return v, fmt.Errorf("delegate: libedgetpu version %q has no RuntimeVersion(N)", s)
	}
	v.Runtime, _ = strconv.Atoi(s[m[2]:m[3]])
	i := strings.Index(s[:m[0]], "BuildLabel(")
	if i < 0 {
		return v, nil
	}
	label := strings.TrimSpace(s[i+len("BuildLabel(") : m[0]])
	label = strings.TrimSpace(strings.TrimSuffix(label, ","))
	label = strings.TrimSuffix(label, ")")
	for _, kv := range strings.Split(label, ",") {
		k, val, _ := strings.Cut(kv, "=")
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(k) {
		case "COMPILER":
			v.Compiler = val
		case "DATE":
			v.Date = val
		case "CL_NUMBER":
			v.CL, _ = strconv.ParseInt(val, 10, 64)
		}
	}
	return v, nil
}

// tfVersion is a TensorFlow release, major.minor.patch.
type tfVersion struct{ major, minor, patch int }

var tfVersionRE = regexp.MustCompile(`^(\d{1,4})\.(\d{1,4})(?:\.(\d{1,4}))?`)

// parseTFVersion reads the release at the start of TfLiteVersion()'s text
// ("2.9.0", "2.12.0-rc1", "2.5.0-dev20210301").
func parseTFVersion(s string) (tfVersion, bool) {
	m := tfVersionRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return tfVersion{}, false
	}
	var v tfVersion
	v.major, _ = strconv.Atoi(m[1])
	v.minor, _ = strconv.Atoi(m[2])
	if m[3] != "" {
		v.patch, _ = strconv.Atoi(m[3])
	}
	return v, true
}

func (v tfVersion) less(w tfVersion) bool {
	if v.major != w.major {
		return v.major < w.major
	}
	if v.minor != w.minor {
		return v.minor < w.minor
	}
	return v.patch < w.patch
}

func (v tfVersion) String() string { return fmt.Sprintf("%d.%d.%d", v.major, v.minor, v.patch) }

// edgetpuRelease is one row of the table of libedgetpu builds.
type edgetpuRelease struct {
	match     func(EdgeTPUVersion) bool
	name      string    // what the library is
	builtFrom string    // the TensorFlow its TFLite structures come from
	min, max  tfVersion // TFLite that works: min <= v < max (zero: no bound)
	note      string    // said even when the combination is accepted
	tooOld    string    // why and what to do below min
	tooNew    string    // why and what to do at or above max
}

// The TFLite C library and libedgetpu exchange C structures (TfLiteContext,
// TfLiteTensor, TfLiteRegistration) by layout: libedgetpu only works with
// the TFLite release it was compiled against, or one whose structures kept
// that layout. What is known, and where from:
//
//   - Coral's libedgetpu 16.0 packages (2021, RuntimeVersion(14), build date
//     redacted) are built from TensorFlow 2.5.0 (google-coral/libedgetpu
//     workspace.bzl, release "grouper"). Older TFLite fails with "Internal:
//     Unsupported data type in custom op handler: <garbage>" (Coral's
//     answers in google-coral/edgetpu#259 and #44: use tflite_runtime 2.5);
//     TFLite 2.12 and later crash (google-coral/edgetpu#812,
//     google-coral/libedgetpu#53: "the last version of TensorFlow Lite to
//     support EdgeTPU is 2.11.1"). 2.5 to 2.11 work (2.9.1 is reported
//     working in google-coral/edgetpu#666).
//   - libedgetpu built from source reports RuntimeVersion(14) too; its
//     workspace.bzl pins TensorFlow 2.5.0 or later (2.8 ... 2.15 in later
//     commits, and community builds such as feranick/libedgetpu's
//     "16.0TF2.x"), which only it knows: it must match libtensorflowlite_c.
//   - Coral's libedgetpu 13.0 (early 2020, Edge TPU API 2.13, CL_NUMBER
//     291256449, RuntimeVersion(13)) goes with tflite_runtime 2.1.0
//     (google-coral/edgetpu#44, google-coral/examples-camera#34); TensorFlow
//     2.2 grew TfLiteTensor, and newer TFLite fails the same way
//     (google-coral/edgetpu#66: TensorFlow master of February 2020).
//     Coral's libedgetpu 12 and older (2019, RuntimeVersion(12) and below)
//     predate it.
//   - Coral's libedgetpu 14.x and 15.0 also report RuntimeVersion(13): 15.0
//     (late 2020) goes with tflite_runtime 2.5.0 (edgetpu#259), 14.x with
//     2.1, and the version text does not tell them apart.
//   - Runtime version vs models: edgetpu_compiler 16 writes models that need
//     RuntimeVersion(14) unless given -m 13; on an older runtime they fail
//     with "Failed precondition: Package requires runtime version (14), which
//     is newer than this runtime version (13)" (google-coral/edgetpu#435).
var edgetpuReleases = []edgetpuRelease{
	{
		match:     func(v EdgeTPUVersion) bool { return v.Runtime == 14 && v.CoralPackage() },
		name:      "libedgetpu 16.0 (Coral's package)",
		builtFrom: "TensorFlow 2.5.0",
		min:       tfVersion{2, 5, 0},
		max:       tfVersion{2, 12, 0},
		tooOld:    "TensorFlow Lite older than the one libedgetpu was built against fails with \"Unsupported data type in custom op handler\"; use a libtensorflowlite_c from 2.5 to 2.11 (`make ref` unpacks 2.9)",
		tooNew:    "TensorFlow Lite 2.12 and later crash with it (google-coral/edgetpu#812); use a libtensorflowlite_c from 2.5 to 2.11 (`make ref` unpacks 2.9), or a libedgetpu built from github.com/google-coral/libedgetpu against this TensorFlow release",
	},
	{
		match:     func(v EdgeTPUVersion) bool { return v.Runtime == 14 && !v.CoralPackage() },
		name:      "libedgetpu 16.0 built from source",
		builtFrom: "TensorFlow 2.5.0 or later (whichever its workspace.bzl pinned)",
		min:       tfVersion{2, 5, 0},
		note:      "a libedgetpu built from source works only with the TensorFlow Lite release it was built against (a mismatch shows as \"Unsupported data type in custom op handler\" or a crash)",
		tooOld:    "every libedgetpu source tree that reports runtime 14 builds against TensorFlow 2.5.0 or later, and older TensorFlow Lite fails with \"Unsupported data type in custom op handler\"; use the libtensorflowlite_c of the TensorFlow release libedgetpu was built from",
	},
	{
		match:     func(v EdgeTPUVersion) bool { return v.Runtime == 13 && v.CL == 291256449 },
		name:      "libedgetpu 13.0 (Coral's package, 2020)",
		builtFrom: "TensorFlow 2.1",
		max:       tfVersion{2, 2, 0},
		note:      "models compiled by edgetpu_compiler 16 need runtime 14 (or compiling with -m 13)",
		tooNew:    "TensorFlow Lite 2.2 changed the tensor layout it reads (\"Unsupported data type in custom op handler\"); install libedgetpu1-std 16.0 from Coral's apt repository (apt-get install libedgetpu1-std)",
	},
	{
		match:     func(v EdgeTPUVersion) bool { return v.Runtime == 13 && v.CoralPackage() },
		name:      "libedgetpu 14.x or 15.0 (Coral's package, 2020)",
		builtFrom: "TensorFlow 2.1 (14.x) or a 2.5 pre-release (15.0)",
		max:       tfVersion{2, 12, 0},
		note:      "only 15.0 works with TensorFlow Lite 2.5 and later, 14.x only with 2.1, and the version text does not say which this is; install libedgetpu1-std 16.0 from Coral's apt repository; models compiled by edgetpu_compiler 16 need runtime 14 (or compiling with -m 13)",
		tooNew:    "TensorFlow Lite 2.12 and later crash with every libedgetpu Coral packaged (google-coral/edgetpu#812); use a libtensorflowlite_c from 2.5 to 2.11 and libedgetpu1-std 16.0",
	},
	{
		match:     func(v EdgeTPUVersion) bool { return v.Runtime <= 12 && v.CoralPackage() },
		name:      "libedgetpu 12 or older (Coral's package, 2019)",
		builtFrom: "TensorFlow 2.0 or older",
		max:       tfVersion{2, 2, 0},
		note:      "models compiled by edgetpu_compiler 14.1 and later need runtime 13 or 14",
		tooNew:    "it predates TensorFlow Lite 2.2, which changed the tensor layout it reads (\"Unsupported data type in custom op handler\"); install libedgetpu1-std 16.0 from Coral's apt repository (apt-get install libedgetpu1-std)",
	},
}

// ErrEdgeTPUVersion is wrapped by the error for a libedgetpu and a
// libtensorflowlite_c known not to work together.
var ErrEdgeTPUVersion = errors.New("delegate: libedgetpu and libtensorflowlite_c do not work together")

// versionCheck is the table's verdict on a libedgetpu and a TFLite library.
type versionCheck struct {
	release string // what the table makes of the library, "" unknown
	note    string // remarks that do not refuse the combination
	err     error  // a combination known to break
}

// checkEdgeTPUVersions compares libedgetpu (its file lib and the text of
// edgetpu_version(), "" when it does not export it) with the TFLite
// library of this process (its file and TfLiteVersion(), "" when unknown).
// Only combinations the table knows to break are refused; the rest are
// accepted with a note saying what could not be checked.
func checkEdgeTPUVersions(lib, version, tflite, tfliteVersion string) versionCheck {
	var notes []string
	var c versionCheck
	if version == "" {
		return versionCheck{note: lib + " does not export edgetpu_version(), so its TensorFlow Lite compatibility cannot be checked"}
	}
	v, err := ParseEdgeTPUVersion(version)
	if err != nil {
		return versionCheck{note: fmt.Sprintf("%s's version %q is not in libedgetpu's form, so its TensorFlow Lite compatibility cannot be checked", lib, version)}
	}
	var rel *edgetpuRelease
	for i := range edgetpuReleases {
		if edgetpuReleases[i].match(v) {
			rel = &edgetpuReleases[i]
			break
		}
	}
	if rel == nil {
		if v.Runtime > 14 {
			return versionCheck{note: fmt.Sprintf("runtime version %d is newer than any libedgetpu known here (Coral's last, 16.0, is 14); it works only with the TensorFlow Lite release it was built against", v.Runtime)}
		}
		return versionCheck{note: fmt.Sprintf("a libedgetpu built from source with runtime version %d; it works only with the TensorFlow Lite release it was built against", v.Runtime)}
	}
	c.release = rel.name + ", built from " + rel.builtFrom
	if rel.note != "" {
		notes = append(notes, rel.note)
	}
	tf, ok := parseTFVersion(tfliteVersion)
	if !ok {
		if tfliteVersion == "" {
			notes = append(notes, "the TensorFlow Lite library of this process is unknown (libtensorflowlite_c not loaded), so the pair cannot be checked")
		} else {
			notes = append(notes, fmt.Sprintf("TensorFlow Lite version %q is not a release number, so the pair cannot be checked", tfliteVersion))
		}
		c.note = strings.Join(notes, "; ")
		return c
	}
	which := fmt.Sprintf("%s (%s, %q)", lib, c.release, version)
	tfl := fmt.Sprintf("TensorFlow Lite %s (%s)", tfliteVersion, orUnknown(tflite))
	switch {
	case rel.min != (tfVersion{}) && tf.less(rel.min):
		c.err = fmt.Errorf("%w: %s needs TensorFlow Lite %s or later, this process has %s: %s", ErrEdgeTPUVersion, which, rel.min, tfl, rel.tooOld)
	case rel.max != (tfVersion{}) && !tf.less(rel.max):
		c.err = fmt.Errorf("%w: %s needs TensorFlow Lite older than %s, this process has %s: %s", ErrEdgeTPUVersion, which, rel.max, tfl, rel.tooNew)
	}
	c.note = strings.Join(notes, "; ")
	return c
}

func orUnknown(s string) string {
	if s == "" {
		return "file unknown"
	}
	return s
}
