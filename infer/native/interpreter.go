package native

import (
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/fruitcam/fruitcam/infer/tfl"
)

// Options configures an Interpreter.
type Options struct {
	// Threads is the number of goroutines a heavy operator (convolution,
	// fully connected) may use. 0 or 1 means single-threaded.
	Threads int
	// KeepTensors keeps every intermediate tensor alive after Invoke
	// instead of letting activations share memory, so that they can be
	// read (feature maps). It costs memory.
	KeepTensors bool
	// PinTensors names tensors, by index in subgraph 0, whose memory the
	// arena planner never gives to another tensor, so that after Invoke
	// they hold what the graph computed (feature maps of chosen layers)
	// without keeping every activation alive and without a copy per
	// Invoke. Kept returns them. An index out of range is an error.
	PinTensors []int
}

// kernel is one operator instance. prepare validates the operator's
// tensors, sets its output shapes and precomputes everything eval needs
// (multipliers, packed weights, scratch size); it runs at load and after
// every input resize. eval runs blindly: it must not fail or allocate.
type kernel interface {
	prepare() error
	eval()
}

// node is what a kernel knows about its operator.
type node struct {
	index   int
	code    tfl.OperatorCode
	opts    any
	in, out []*Tensor // in[i] is nil for an omitted optional input
	threads int
	// scratchSize is set by prepare; scratch is valid during eval and is
	// shared by all operators (they run one after another).
	scratchSize int
	scratch     []byte
}

// input returns input i or nil when it is omitted or absent.
func (n *node) input(i int) *Tensor {
	if i < len(n.in) {
		return n.in[i]
	}
	return nil
}

// errorf builds a prepare error; the interpreter adds the operator.
func (n *node) errorf(format string, a ...any) error {
	return fmt.Errorf(format, a...)
}

// Interpreter runs subgraph 0 of a model with the native kernels.
type Interpreter struct {
	model   *tfl.Model
	tensors []*Tensor
	nodes   []*node
	kernels []kernel
	inputs  []*Tensor
	outputs []*Tensor
	keep    bool
	pinned  []bool // by tensor index: Options.PinTensors
	arena   []byte
	scratch []byte
}

// New builds an interpreter for m: it resolves every operator, checks that
// the native backend supports it, runs every kernel's prepare and plans
// the activation arena.
func New(m *tfl.Model, opts Options) (*Interpreter, error) {
	if len(m.Subgraphs) != 1 {
		return nil, &UnsupportedOpError{Index: -1, Op: fmt.Sprintf("%d subgraphs", len(m.Subgraphs)),
			Hint: "control flow (IF/WHILE/CALL) is not in the native backend; the tflite backend runs it"}
	}
	sg := &m.Subgraphs[0]
	if err := checkDataflow(m, sg); err != nil {
		return nil, err
	}
	it := &Interpreter{model: m, keep: opts.KeepTensors}
	threads := max(opts.Threads, 1)
	for i := range sg.Tensors {
		t, err := newTensor(m, sg, i)
		if err != nil {
			return nil, fmt.Errorf("native: %w", err)
		}
		it.tensors = append(it.tensors, t)
	}
	for _, i := range opts.PinTensors {
		if i < 0 || i >= len(it.tensors) {
			return nil, fmt.Errorf("native: pinned tensor %d: the model has tensors 0..%d", i, len(it.tensors)-1)
		}
		if it.pinned == nil {
			it.pinned = make([]bool, len(it.tensors))
		}
		it.pinned[i] = true
	}
	for _, i := range sg.Inputs {
		it.inputs = append(it.inputs, it.tensors[i])
	}
	for _, i := range sg.Outputs {
		it.outputs = append(it.outputs, it.tensors[i])
	}
	for i, op := range sg.Operators {
		code := m.OperatorCodes[op.OpcodeIndex]
		nk, ok := resolver[code.Builtin]
		if !ok || code.Builtin == tfl.OpCustom {
			return nil, unsupported(i, code)
		}
		n := &node{index: i, code: code, opts: op.Options, threads: threads}
		for _, ti := range op.Inputs {
			if ti < 0 {
				n.in = append(n.in, nil)
			} else {
				n.in = append(n.in, it.tensors[ti])
			}
		}
		for _, ti := range op.Outputs {
			if it.tensors[ti].Const {
				return nil, fmt.Errorf("native: operator %d (%s) writes to constant tensor %q", i, code.Name(), it.tensors[ti].Name)
			}
			n.out = append(n.out, it.tensors[ti])
		}
		k, err := nk(n)
		if err != nil {
			return nil, opError(n, err)
		}
		it.nodes = append(it.nodes, n)
		it.kernels = append(it.kernels, k)
	}
	if err := it.prepare(); err != nil {
		return nil, err
	}
	return it, nil
}

func opError(n *node, err error) error {
	var ue *UnsupportedOpError
	if errors.As(err, &ue) {
		return err
	}
	return fmt.Errorf("native: operator %d (%s): %w", n.index, n.code.Name(), err)
}

func newTensor(m *tfl.Model, sg *tfl.Subgraph, i int) (*Tensor, error) {
	st := &sg.Tensors[i]
	t := &Tensor{Index: i, Name: st.Name, Type: st.Type, Shape: slices.Clone(st.Shape), Quant: st.Quant, Variable: st.IsVariable}
	if st.Quant != nil {
		for _, z := range st.Quant.ZeroPoint {
			if z < -1<<31 || z >= 1<<31 {
				return nil, fmt.Errorf("tensor %q: zero point %d does not fit in int32", st.Name, z)
			}
			t.ZeroPoint32 = append(t.ZeroPoint32, int32(z))
		}
	}
	if data := m.Buffer(st.Buffer); len(data) > 0 {
		t.Const = true
		t.Data = aligned(data, st.Type.Size())
	}
	return t, nil
}

// aligned returns b, or a copy of it on a 64-byte boundary when b is not
// aligned for its elements of size bytes, so that typed views are valid.
// Byte-sized weights (int8, uint8: most of a quantised model) are never
// copied: the model's own bytes serve, and memory holds them once.
func aligned(b []byte, size int) []byte {
	if len(b) == 0 || size <= 1 || uintptrOf(b)%uintptr(size) == 0 {
		return b
	}
	c := alignedBytes(len(b))
	copy(c, b)
	return c
}

// prepare runs every kernel's prepare in order and plans the arena.
func (it *Interpreter) prepare() error {
	scratch := 0
	for _, t := range it.inputs {
		if err := checkSize(t); err != nil {
			return fmt.Errorf("native: input: %w", err)
		}
	}
	for i, k := range it.kernels {
		n := it.nodes[i]
		n.scratchSize = 0
		if err := k.prepare(); err != nil {
			return opError(n, err)
		}
		for _, o := range n.out {
			if o.Type.Size() == 0 {
				return opError(n, fmt.Errorf("output %q has type %s, which the native backend does not store", o.Name, o.Type))
			}
			if err := checkSize(o); err != nil {
				return opError(n, err)
			}
		}
		scratch = max(scratch, n.scratchSize)
	}
	if err := it.plan(); err != nil {
		return err
	}
	if scratch > maxArenaBytes {
		return fmt.Errorf("native: kernels need %d MiB of scratch memory: a malformed model, or far too big for a board", scratch>>20)
	}
	if cap(it.scratch) < scratch {
		it.scratch = alignedBytes(scratch)
	}
	for _, n := range it.nodes {
		n.scratch = it.scratch[:n.scratchSize]
	}
	return nil
}

// plan gives every non-constant tensor a window of one arena. Tensors whose
// lifetimes (first write to last read, in operator order) do not overlap
// share memory; placement is greedy, largest first, as TFLite's
// ArenaPlanner does.
func (it *Interpreter) plan() error {
	type live struct {
		t           *Tensor
		first, last int
		off, size   int
	}
	nops := len(it.nodes)
	lives := map[*Tensor]*live{}
	touch := func(t *Tensor, at int) {
		if t == nil || t.Const {
			return
		}
		l := lives[t]
		if l == nil {
			l = &live{t: t, first: at, last: at}
			lives[t] = l
		}
		l.first = min(l.first, at)
		l.last = max(l.last, at)
	}
	for _, t := range it.inputs {
		touch(t, -1)
	}
	for i, n := range it.nodes {
		for _, t := range n.in {
			touch(t, i)
		}
		for _, t := range n.out {
			touch(t, i)
		}
	}
	for _, t := range it.outputs {
		touch(t, nops)
	}
	var all []*live
	for t, l := range lives {
		if it.keep || t.Variable || it.isPinned(t.Index) {
			l.first, l.last = -1, nops
		}
		l.size = (t.ByteSize() + 63) &^ 63
		all = append(all, l)
	}
	sort.Slice(all, func(a, b int) bool {
		if all[a].size != all[b].size {
			return all[a].size > all[b].size
		}
		return all[a].t.Index < all[b].t.Index
	})
	var placed []*live
	total := 0
	for _, l := range all {
		// Candidate offsets: 0 and the end of every placed tensor whose
		// lifetime overlaps; take the lowest that fits.
		var busy []*live
		for _, p := range placed {
			if p.first <= l.last && l.first <= p.last {
				busy = append(busy, p)
			}
		}
		sort.Slice(busy, func(a, b int) bool { return busy[a].off < busy[b].off })
		off := 0
		for _, p := range busy {
			if off+l.size <= p.off {
				break
			}
			off = max(off, p.off+p.size)
		}
		l.off = off
		placed = append(placed, l)
		total = max(total, off+l.size)
		if total > maxArenaBytes {
			return fmt.Errorf("native: the activations need more than %d MiB: a malformed model, or far too big for a board", maxArenaBytes>>20)
		}
	}
	if cap(it.arena) < total {
		it.arena = alignedBytes(total)
	}
	it.arena = it.arena[:cap(it.arena)]
	clear(it.arena)
	for _, l := range all {
		l.t.Data = it.arena[l.off : l.off+l.t.ByteSize() : l.off+l.t.ByteSize()]
	}
	return nil
}

func (it *Interpreter) isPinned(i int) bool { return it.pinned != nil && it.pinned[i] }

// Kept returns tensor i when its data after Invoke is what the graph
// computed (or was given): a constant, an output, a variable, a tensor
// pinned by Options.PinTensors, or any tensor with Options.KeepTensors.
// Other tensors share memory with later activations, and ok is false;
// so do inputs, which are free once their last reader has run.
func (it *Interpreter) Kept(i int) (t *Tensor, ok bool) {
	if i < 0 || i >= len(it.tensors) {
		return nil, false
	}
	t = it.tensors[i]
	if it.keep || t.Const || t.Variable || it.isPinned(i) || slices.Contains(it.outputs, t) {
		return t, true
	}
	return nil, false
}

// Inputs returns the model's input tensors in signature order.
func (it *Interpreter) Inputs() []*Tensor { return it.inputs }

// Outputs returns the model's output tensors in signature order.
func (it *Interpreter) Outputs() []*Tensor { return it.outputs }

// Tensors returns every tensor of the graph, indexed as in the model.
func (it *Interpreter) Tensors() []*Tensor { return it.tensors }

// Model returns the model the interpreter runs.
func (it *Interpreter) Model() *tfl.Model { return it.model }

// ArenaBytes is the size of the activation arena.
func (it *Interpreter) ArenaBytes() int { return len(it.arena) }

// TensorByName finds a tensor by its name.
func (it *Interpreter) TensorByName(name string) (*Tensor, bool) {
	for _, t := range it.tensors {
		if t.Name == name {
			return t, true
		}
	}
	return nil, false
}

// ResizeInput changes the shape of input i (typically its batch
// dimension), re-prepares every operator and re-plans the arena. Input and
// output data are cleared.
func (it *Interpreter) ResizeInput(i int, shape []int) error {
	if i < 0 || i >= len(it.inputs) {
		return fmt.Errorf("native: input %d of %d", i, len(it.inputs))
	}
	t := it.inputs[i]
	if len(shape) != len(t.Shape) {
		return fmt.Errorf("native: input %q has rank %d, cannot resize to %v", t.Name, len(t.Shape), shape)
	}
	for _, d := range shape {
		if d <= 0 {
			return fmt.Errorf("native: input %q: invalid shape %v", t.Name, shape)
		}
	}
	old := t.Shape
	t.Shape = slices.Clone(shape)
	if err := it.prepare(); err != nil {
		t.Shape = old
		if err2 := it.prepare(); err2 != nil {
			return fmt.Errorf("%w (and restoring %v failed: %v)", err, old, err2)
		}
		return fmt.Errorf("native: cannot run %q with shape %v: %w", t.Name, shape, err)
	}
	return nil
}

// Invoke runs every operator once on the current inputs.
func (it *Interpreter) Invoke() error {
	for _, k := range it.kernels {
		k.eval()
	}
	return nil
}

// InvokeUntil runs operators 0..last inclusive, for inspecting
// intermediate tensors without running the rest of the graph.
func (it *Interpreter) InvokeUntil(last int) {
	for i := 0; i <= last && i < len(it.kernels); i++ {
		it.kernels[i].eval()
	}
}
