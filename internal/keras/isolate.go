package keras

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The HDF5 library trusts sizes stored in the file and allocates them
// before checking them (see doc.go), and a Go program that cannot allocate
// dies with "fatal error: out of memory", which no recover catches. So
// ReadFileIsolated runs ReadFile in a child process, the same executable
// started again with childEnv set, that limits its own memory and CPU time
// first; whatever the file does to the child, the parent gets an error.

const (
	// childEnv names the file the child reads; its presence is what makes
	// ServeChild serve instead of returning.
	childEnv = "FRUITCAM_KERAS_CHILD"
	// childLimitEnv carries "MEMORY_BYTES CPU_SECONDS" for the child.
	childLimitEnv = "FRUITCAM_KERAS_CHILD_LIMIT"
	// replyMagic starts the child's reply, so output from anything else
	// (a main that forgot ServeChild) is told apart from a reply.
	replyMagic = "fruitcam-keras-child 1\n"

	// minReadMemory is the memory a child may use whatever the file size:
	// generous, because a valid model needs its weights as float32 (4x an
	// int8 or 2x a float16 file) plus the library's own copies.
	minReadMemory = 2 << 30
	// readMemoryPerFileByte scales the memory limit for large files.
	readMemoryPerFileByte = 16
	// minReadTimeout bounds the read of any file; reading vww_96.h5 (3 MB)
	// takes about 0.1 s, so this only ever stops a runaway child.
	minReadTimeout = time.Minute
	// readTimeoutPerMiB adds time for large files: far slower than the
	// library's measured ~30 MiB/s, so a valid file never meets it.
	readTimeoutPerMiB = time.Second
	// maxStderr is how much of the child's stderr is kept for the error:
	// the first line of a Go fatal error is what tells out-of-memory apart.
	maxStderr = 8 << 10
)

// readLimits returns the memory (bytes) and wall-clock time a child may
// spend reading a file of size bytes.
func readLimits(size int64) (memory int64, timeout time.Duration) {
	memory = minReadMemory
	if size > 0 && size <= math.MaxInt64/readMemoryPerFileByte && size*readMemoryPerFileByte > memory {
		memory = size * readMemoryPerFileByte
	} else if size > math.MaxInt64/readMemoryPerFileByte {
		memory = math.MaxInt64
	}
	timeout = minReadTimeout + time.Duration(size>>20)*readTimeoutPerMiB
	return memory, timeout
}

// testHookStarted, when set by a test, runs right after the child starts.
var testHookStarted func()

// ReadFileIsolated reads a Keras model like ReadFile, but in a child
// process, so that a corrupt or hostile file can cost at most that child:
// the child limits its address space to max(2 GiB, 16x the file size) above
// what the Go runtime has already reserved (on Linux, with RLIMIT_AS; on
// other systems only a soft runtime/debug.SetMemoryLimit applies, so a
// corrupt file can still exhaust memory there, but it takes down the child,
// not the caller), and is killed when ctx is done or after a time limit of
// one minute plus one second per MiB of file. A child that runs out of
// memory, is killed, overruns the time limit or answers with anything but a
// reply becomes an error "keras: read FILE: the file is corrupt or too large:
// ..."; when ctx ends first, the error wraps ctx.Err().
//
// Whatever ReadFile returns comes back unchanged: the same Model, and errors
// with the same message that still match *UnsupportedLayerError and
// *fs.PathError (so errors.Is(err, fs.ErrNotExist) works) with errors.As.
//
// The child is os.Executable() started again, so every program that calls
// ReadFileIsolated must call ServeChild first thing in main, and every test
// binary that does must call it first thing in TestMain.
func ReadFileIsolated(ctx context.Context, path string) (*Model, error) {
	if _, ok := os.LookupEnv(childEnv); ok {
		// Only a child whose main did not call ServeChild gets here;
		// starting another child would recurse without end.
		return nil, fmt.Errorf("keras: read %s: this process is a reader child but did not call keras.ServeChild first in main", path)
	}
	// Open the file here so that a missing or unreadable one gives the
	// same error as ReadFile, without a child.
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	info, err := f.Stat()
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	memory, timeout := readLimits(info.Size())
	return readIsolated(ctx, path, memory, timeout)
}

func readIsolated(ctx context.Context, path string, memory int64, timeout time.Duration) (*Model, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("keras: read %s: cannot start a reader process: %w", path, err)
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var args []string
	if strings.HasSuffix(strings.TrimSuffix(exe, ".exe"), ".test") {
		// A test binary whose TestMain forgot ServeChild must not run the
		// whole test suite again in the child: run no test, so the missing
		// reply is reported.
		args = []string{"-test.run=^$"}
	}
	cmd := exec.CommandContext(cctx, selfPath(exe), args...)
	cmd.Args[0] = exe
	cpu := 3*timeout + 10*time.Second // a backstop in case this process dies
	cmd.Env = append(withoutChildEnv(os.Environ()),
		childEnv+"="+path,
		fmt.Sprintf("%s=%d %d", childLimitEnv, memory, int64(cpu.Seconds())),
		// A race-detector build sleeps 1 s at exit by default; the
		// child's exit needs no grace period. Other builds ignore it.
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	stderr := &headBuffer{max: maxStderr}
	cmd.Stderr = stderr
	cmd.SysProcAttr = childAttr()
	cmd.WaitDelay = time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("keras: read %s: cannot start a reader process: %w", path, err)
	}
	corrupt := "keras: read " + path + ": the file is corrupt or too large: "
	if err := cmd.Start(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("keras: read %s: %w", path, ctx.Err())
		}
		if cctx.Err() != nil {
			return nil, fmt.Errorf("%sreading it took more than %v", corrupt, timeout)
		}
		return nil, fmt.Errorf("keras: read %s: cannot start a reader process: %w", path, err)
	}
	if testHookStarted != nil {
		testHookStarted()
	}
	rep, replyErr := readReply(bufio.NewReaderSize(stdout, 1<<16), memory)
	if replyErr != nil {
		// Stop a child that sent garbage rather than wait for it.
		cmd.Process.Kill()
	}
	io.Copy(io.Discard, stdout)
	waitErr := cmd.Wait()

	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("keras: read %s: %w", path, err)
	}
	if errors.Is(cctx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("%sreading it took more than %v", corrupt, timeout)
	}
	first := stderr.firstLine()
	if outOfMemory(stderr.String()) {
		return nil, fmt.Errorf("%sreading it needed more than %d MiB (%s)", corrupt, memory>>20, first)
	}
	if strings.Contains(stderr.String(), "stack exceeds") {
		// A cycle in the file's structure that the library follows
		// recursively ends in Go's stack limit: also a fatal error.
		return nil, fmt.Errorf("%sreading it recursed without end (%s)", corrupt, first)
	}
	if replyErr != nil {
		if first != "" {
			replyErr = fmt.Errorf("%w; its stderr begins %q", replyErr, first)
		}
		return nil, fmt.Errorf("keras: read %s: the reader process sent no valid reply (does main call keras.ServeChild first?): %w", path, replyErr)
	}
	if waitErr != nil {
		var ee *exec.ExitError
		if errors.As(waitErr, &ee) && first == "" {
			// Killed without a word: the kernel's OOM killer or the CPU
			// limit.
			return nil, fmt.Errorf("%sthe reader process was stopped (%v)", corrupt, ee.ProcessState)
		}
		if first == "" {
			first = waitErr.Error()
		}
		// ReadFile turns the library's panics into errors, so this is a
		// panic in this package or a fatal error in the runtime: a bug,
		// which the file only triggers.
		return nil, fmt.Errorf("keras: read %s: the reader process crashed (%s): a bug in fruitcam or its HDF5 library that this file triggers", path, first)
	}
	if rep.err != nil {
		if rep.err.Setup {
			return nil, fmt.Errorf("keras: read %s: %s", path, rep.err.Msg)
		}
		return nil, rep.err.toError()
	}
	return rep.model, nil
}

func withoutChildEnv(env []string) []string {
	return slices.DeleteFunc(env, func(kv string) bool {
		return strings.HasPrefix(kv, childEnv+"=") || strings.HasPrefix(kv, childLimitEnv+"=") || strings.HasPrefix(kv, "GORACE=")
	})
}

// outOfMemory tells whether a child's stderr is the Go runtime failing to
// get memory: for the heap, for a thread stack, or (under the race
// detector, which mistakes a refused reservation for a clash) for an arena
// or for its shadow memory.
func outOfMemory(stderr string) bool {
	for _, s := range []string{"out of memory", "cannot allocate memory", "failed to create new OS thread", "too many address space collisions", "failed to allocate"} {
		if strings.Contains(stderr, s) {
			return true
		}
	}
	return false
}

// ServeChild makes this process serve as the reader child of
// ReadFileIsolated when it was started as one, and otherwise returns at
// once. As a child it sets its resource limits, reads the file named by
// FRUITCAM_KERAS_CHILD with ReadFile, writes the result to stdout and exits,
// never returning.
//
// Call it first thing in main of every command that uses ReadFileIsolated,
// and in TestMain of every package whose tests do (before m.Run):
//
//	func main() {
//		keras.ServeChild()
//		...
//	}
//
// It is an explicit call, not an init function, so that importing this
// package never changes what a program does.
func ServeChild() {
	path, ok := os.LookupEnv(childEnv)
	if !ok {
		return
	}
	os.Exit(serveChild(path, os.Getenv(childLimitEnv)))
}

func serveChild(path, limits string) int {
	// The reply owns stdout: anything else printing goes to stderr.
	out := os.Stdout
	os.Stdout = os.Stderr
	w := bufio.NewWriterSize(out, 1<<16)
	var m *Model
	var err error
	if lerr := applyLimits(limits); lerr != nil {
		err = &childSetupError{lerr}
	} else {
		m, err = ReadFile(path)
	}
	if werr := writeReply(w, m, err); werr != nil {
		fmt.Fprintln(os.Stderr, "keras: reader child:", werr)
		return 1
	}
	if werr := w.Flush(); werr != nil {
		fmt.Fprintln(os.Stderr, "keras: reader child:", werr)
		return 1
	}
	return 0
}

// applyLimits sets the limits the parent passed, "MEMORY_BYTES CPU_SECONDS".
func applyLimits(s string) error {
	fields := strings.Fields(s)
	if len(fields) != 2 {
		return fmt.Errorf("bad %s %q", childLimitEnv, s)
	}
	memory, err1 := strconv.ParseInt(fields[0], 10, 64)
	cpu, err2 := strconv.ParseInt(fields[1], 10, 64)
	if err1 != nil || err2 != nil || memory <= 0 || cpu <= 0 {
		return fmt.Errorf("bad %s %q", childLimitEnv, s)
	}
	// The soft limit makes the collector work harder before the hard
	// limit is reached, so a valid file near the limit still reads.
	debug.SetMemoryLimit(memory)
	return limitProcess(uint64(memory), uint64(cpu))
}

// childSetupError is a child that could not set its limits: an error of
// this machine, not of the file.
type childSetupError struct{ err error }

func (e *childSetupError) Error() string { return "cannot limit the reader process: " + e.err.Error() }

// The reply: replyMagic, the length of a JSON header as 8 bytes
// little-endian, the header, then every weight's values as little-endian
// float32 bits in eachTensor order. The weights travel as bits rather than
// JSON numbers because that keeps NaN, infinities and -0 and is ~10x
// faster; the rest of the Model is plain JSON data (its Config maps were
// parsed from JSON in the first place), so it round-trips exactly.
type replyHeader struct {
	Model  *Model     `json:",omitempty"`
	Err    *wireError `json:",omitempty"`
	Values []int      `json:",omitempty"` // each tensor's value count, in eachTensor order
}

// wireError carries an error with the typed errors callers may test for.
type wireError struct {
	Msg         string
	Setup       bool                   `json:",omitempty"` // a childSetupError
	Unsupported *UnsupportedLayerError `json:",omitempty"`
	PathOp      string                 `json:",omitempty"`
	PathPath    string                 `json:",omitempty"`
	Errno       uint64                 `json:",omitempty"`
}

// childError is an error from the child: its message, unwrapping to the
// typed error it carried.
type childError struct {
	msg     string
	wrapped error
}

func (e *childError) Error() string { return e.msg }
func (e *childError) Unwrap() error { return e.wrapped }

func toWire(err error) *wireError {
	w := &wireError{Msg: err.Error()}
	var setup *childSetupError
	w.Setup = errors.As(err, &setup)
	var unsup *UnsupportedLayerError
	if errors.As(err, &unsup) {
		w.Unsupported = unsup
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		w.PathOp, w.PathPath = pe.Op, pe.Path
		var errno syscall.Errno
		if errors.As(pe.Err, &errno) {
			w.Errno = uint64(errno)
		}
	}
	return w
}

func (w *wireError) toError() error {
	e := &childError{msg: w.Msg}
	switch {
	case w.Unsupported != nil:
		e.wrapped = w.Unsupported
	case w.PathOp != "":
		pe := &fs.PathError{Op: w.PathOp, Path: w.PathPath, Err: errors.New("unknown error")}
		if w.Errno != 0 {
			pe.Err = syscall.Errno(w.Errno)
		}
		e.wrapped = pe
	}
	return e
}

// eachTensor visits every weight of m in a fixed order: layers in order,
// weights by name.
func eachTensor(m *Model, fn func(*Tensor)) {
	for _, l := range m.Layers {
		names := make([]string, 0, len(l.Weights))
		for n := range l.Weights {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			if t := l.Weights[n]; t != nil {
				fn(t)
			}
		}
	}
}

// writeReply writes the reply for m or err. It takes the weight values out
// of m (the child exits right after).
func writeReply(w io.Writer, m *Model, err error) error {
	var h replyHeader
	var data [][]float32
	if err != nil {
		h.Err = toWire(err)
	} else {
		h.Model = m
		eachTensor(m, func(t *Tensor) {
			h.Values = append(h.Values, len(t.Data))
			data = append(data, t.Data)
			t.Data = nil
		})
	}
	js, jerr := json.Marshal(h)
	if jerr != nil {
		// The Model should always encode; if a future field cannot, say so
		// as a read error rather than crash.
		js, _ = json.Marshal(replyHeader{Err: &wireError{Msg: "keras: cannot send the model to the parent: " + jerr.Error()}})
		data = nil
	}
	if _, err := io.WriteString(w, replyMagic); err != nil {
		return err
	}
	if err := binary.Write(w, binary.LittleEndian, uint64(len(js))); err != nil {
		return err
	}
	if _, err := w.Write(js); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	for _, d := range data {
		for _, v := range d {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	_, err = w.Write(buf)
	return err
}

type reply struct {
	model *Model
	err   *wireError
}

// readReply reads a child's reply, allocating at most about limit bytes
// whatever the child sent.
func readReply(r io.Reader, limit int64) (*reply, error) {
	magic := make([]byte, len(replyMagic))
	if _, err := io.ReadFull(r, magic); err != nil {
		return nil, fmt.Errorf("reading the reply: %w", err)
	}
	if string(magic) != replyMagic {
		return nil, fmt.Errorf("the reply starts with %q", magic)
	}
	var n uint64
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return nil, fmt.Errorf("reading the reply: %w", err)
	}
	if n == 0 || n > uint64(limit) {
		return nil, fmt.Errorf("the reply header has %d bytes", n)
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(r, js); err != nil {
		return nil, fmt.Errorf("reading the reply: %w", err)
	}
	var h replyHeader
	if err := json.Unmarshal(js, &h); err != nil {
		return nil, fmt.Errorf("decoding the reply: %w", err)
	}
	rep := &reply{}
	switch {
	case h.Err != nil:
		rep.err = h.Err
	case h.Model != nil:
		if err := readTensors(r, h.Model, h.Values, limit); err != nil {
			return nil, err
		}
		rep.model = h.Model
	default:
		return nil, errors.New("the reply has neither a model nor an error")
	}
	// Anything after the reply means it was not ours.
	var extra [1]byte
	if k, _ := r.Read(extra[:]); k != 0 {
		return nil, errors.New("the reply has trailing bytes")
	}
	return rep, nil
}

func readTensors(r io.Reader, m *Model, values []int, limit int64) error {
	var ts []*Tensor
	eachTensor(m, func(t *Tensor) { ts = append(ts, t) })
	if len(ts) != len(values) {
		return fmt.Errorf("the reply lists %d tensors, the model has %d", len(values), len(ts))
	}
	total := int64(0)
	for _, v := range values {
		if v < 0 || int64(v) > limit/4-total {
			return errors.New("the reply's tensors are larger than the memory limit")
		}
		total += int64(v)
	}
	buf := make([]byte, 1<<16)
	for i, t := range ts {
		t.Data = make([]float32, values[i])
		for j := 0; j < len(t.Data); {
			k := min(len(t.Data)-j, len(buf)/4)
			if _, err := io.ReadFull(r, buf[:4*k]); err != nil {
				return fmt.Errorf("reading the reply's weights: %w", err)
			}
			for q := range k {
				t.Data[j+q] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*q:]))
			}
			j += k
		}
	}
	return nil
}

// headBuffer keeps the first max bytes written to it and drops the rest,
// never failing, so a chatty child never blocks on its stderr.
type headBuffer struct {
	buf bytes.Buffer
	max int
}

func (b *headBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *headBuffer) String() string { return b.buf.String() }

// firstLine returns the first non-empty line, which for a Go fatal error
// names the cause ("fatal error: runtime: out of memory").
func (b *headBuffer) firstLine() string {
	for _, l := range strings.Split(b.buf.String(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}
