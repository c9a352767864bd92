package tfl

import (
	"encoding/binary"
	"math"
)

// builder assembles a FlatBuffer back to front, the way the reference
// builders do: an object can only refer to objects written before it,
// because uoffsets are unsigned and point towards the end of the file. The
// bytes built so far are b[head:]; positions are kept as offsets from the
// end ("offset()"), which stay valid when the slice grows at the front.
//
// The builder knows nothing of TFLite; write.go drives it. It never fails:
// Write checks the model (and bounds its size) before building, so the
// builder's inputs are known to fit.
type builder struct {
	b        []byte
	head     int
	minAlign int

	// Table under construction: fields[i] is the offset() just after field
	// i was written, 0 when absent; tableStart is offset() at startTable.
	fields     []int
	tableStart int
	// vtables holds the offset() of every vtable written, for sharing
	// identical ones (the reference builders do the same, and it keeps
	// the output compact and deterministic).
	vtables []int
}

func newBuilder(capacity int) *builder {
	capacity = max(capacity, 1024)
	return &builder{b: make([]byte, capacity), head: capacity, minAlign: 1}
}

// offset is the number of bytes built so far.
func (b *builder) offset() int { return len(b.b) - b.head }

// reserve makes room for n more bytes in front of head.
func (b *builder) reserve(n int) {
	if b.head >= n {
		return
	}
	size := len(b.b)
	newSize := max(2*size, size+n)
	nb := make([]byte, newSize)
	copy(nb[newSize-size:], b.b)
	b.head += newSize - size
	b.b = nb
}

// prep pads so that after writing additional more bytes the position is
// aligned to size (a power of two), and records size as a minimum
// alignment of the whole buffer.
func (b *builder) prep(size, additional int) {
	b.minAlign = max(b.minAlign, size)
	pad := -(b.offset() + additional) & (size - 1)
	b.reserve(pad + size + additional)
	for range pad {
		b.head--
		b.b[b.head] = 0
	}
}

func (b *builder) putU8(v uint8) {
	b.reserve(1)
	b.head--
	b.b[b.head] = v
}

func (b *builder) putU16(v uint16) {
	b.reserve(2)
	b.head -= 2
	binary.LittleEndian.PutUint16(b.b[b.head:], v)
}

func (b *builder) putU32(v uint32) {
	b.reserve(4)
	b.head -= 4
	binary.LittleEndian.PutUint32(b.b[b.head:], v)
}

func (b *builder) putU64(v uint64) {
	b.reserve(8)
	b.head -= 8
	binary.LittleEndian.PutUint64(b.b[b.head:], v)
}

func (b *builder) putBytes(p []byte) {
	b.reserve(len(p))
	b.head -= len(p)
	copy(b.b[b.head:], p)
}

// putUOffset writes a reference to the object at offset() target.
func (b *builder) putUOffset(target int) {
	b.prep(4, 0)
	b.putU32(uint32(b.offset() - target + 4))
}

// byteVector writes a [ubyte] whose first element is aligned to align
// (the schema's force_align), returning its offset.
func (b *builder) byteVector(p []byte, align int) int {
	b.prep(4, len(p))
	b.prep(align, len(p))
	b.putBytes(p)
	b.putU32(uint32(len(p)))
	return b.offset()
}

// str writes a string: length, bytes and the terminating zero.
func (b *builder) str(s string) int {
	b.prep(4, len(s)+1)
	b.putU8(0)
	b.reserve(len(s))
	b.head -= len(s)
	copy(b.b[b.head:], s)
	b.putU32(uint32(len(s)))
	return b.offset()
}

// i32Vector writes a [int]. Callers have checked that every value fits.
func (b *builder) i32Vector(v []int) int {
	b.prep(4, 4*len(v))
	for i := len(v) - 1; i >= 0; i-- {
		b.putU32(uint32(int32(v[i])))
	}
	b.putU32(uint32(len(v)))
	return b.offset()
}

func (b *builder) f32Vector(v []float32) int {
	b.prep(4, 4*len(v))
	for i := len(v) - 1; i >= 0; i-- {
		b.putU32(math.Float32bits(v[i]))
	}
	b.putU32(uint32(len(v)))
	return b.offset()
}

func (b *builder) i64Vector(v []int64) int {
	b.prep(4, 8*len(v))
	b.prep(8, 8*len(v))
	for i := len(v) - 1; i >= 0; i-- {
		b.putU64(uint64(v[i]))
	}
	b.putU32(uint32(len(v)))
	return b.offset()
}

// refVector writes a vector of references to objects already written.
func (b *builder) refVector(targets []int) int {
	b.prep(4, 4*len(targets))
	for i := len(targets) - 1; i >= 0; i-- {
		b.putUOffset(targets[i])
	}
	b.putU32(uint32(len(targets)))
	return b.offset()
}

func (b *builder) startTable(numFields int) {
	b.fields = b.fields[:0]
	for range numFields {
		b.fields = append(b.fields, 0)
	}
	b.tableStart = b.offset()
}

// Scalar fields equal to their schema default are left out, as the
// reference builders do; readers substitute the default.

func (b *builder) addU8(id int, v, def uint8) {
	if v == def {
		return
	}
	b.prep(1, 0)
	b.putU8(v)
	b.fields[id] = b.offset()
}

func (b *builder) addBool(id int, v bool) {
	if v {
		b.addU8(id, 1, 0)
	}
}

func (b *builder) addI32(id int, v, def int32) {
	if v == def {
		return
	}
	b.prep(4, 0)
	b.putU32(uint32(v))
	b.fields[id] = b.offset()
}

func (b *builder) addF32(id int, v, def float32) {
	// Compare bits so -0 and NaN payloads survive.
	if math.Float32bits(v) == math.Float32bits(def) {
		return
	}
	b.prep(4, 0)
	b.putU32(math.Float32bits(v))
	b.fields[id] = b.offset()
}

// addRef stores a reference to the object at offset() target; target 0
// means absent.
func (b *builder) addRef(id, target int) {
	if target == 0 {
		return
	}
	b.putUOffset(target)
	b.fields[id] = b.offset()
}

// endTable writes the table's soffset and its vtable (or reuses an
// identical one) and returns the table's offset.
func (b *builder) endTable() int {
	b.prep(4, 0)
	b.putU32(0) // soffset to the vtable, patched below
	obj := b.offset()

	n := len(b.fields)
	for n > 0 && b.fields[n-1] == 0 {
		n--
	}
	vt := make([]byte, 4+2*n)
	binary.LittleEndian.PutUint16(vt[0:], uint16(len(vt)))
	binary.LittleEndian.PutUint16(vt[2:], uint16(obj-b.tableStart))
	for i, f := range b.fields[:n] {
		if f != 0 {
			binary.LittleEndian.PutUint16(vt[4+2*i:], uint16(obj-f))
		}
	}

	vtOff := 0
	for _, o := range b.vtables {
		p := len(b.b) - o
		if p+len(vt) <= len(b.b) && string(b.b[p:p+len(vt)]) == string(vt) &&
			int(binary.LittleEndian.Uint16(b.b[p:])) == len(vt) {
			vtOff = o
			break
		}
	}
	if vtOff == 0 {
		// A vtable is a run of uint16s; the soffset before it keeps the
		// position 4-aligned already.
		b.putBytes(vt)
		vtOff = b.offset()
		b.vtables = append(b.vtables, vtOff)
	}
	// The table's soffset is its position minus the vtable's: positive
	// when the vtable precedes the table, negative for a shared one after
	// it.
	binary.LittleEndian.PutUint32(b.b[len(b.b)-obj:], uint32(int32(vtOff-obj)))
	b.fields = b.fields[:0]
	return obj
}

// finish writes the root reference and the 4-byte file identifier and
// returns the finished buffer, whose length is a multiple of the largest
// alignment used so every aligned offset is aligned in memory too.
func (b *builder) finish(root int, ident string) []byte {
	b.prep(b.minAlign, 4+len(ident))
	b.putBytes([]byte(ident))
	b.putUOffset(root)
	return b.b[b.head:]
}
