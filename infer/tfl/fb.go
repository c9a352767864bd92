package tfl

import (
	"encoding/binary"
	"fmt"
	"math"
)

// buf is a FlatBuffer with bounds-checked accessors. Every read that could
// leave the buffer returns an error instead of panicking: a .tflite file is
// untrusted input.
//
// Layout reminders (flatbuffers.dev, "Internals"):
//   - a table starts with an int32 soffset; its vtable lives at table-soffset;
//   - a vtable is uint16 vtable size, uint16 table size, then one uint16
//     field offset per field id (0 = field absent, use the default);
//   - reference fields (tables, vectors, strings) hold a uint32 offset
//     relative to the field's own position;
//   - a vector is a uint32 element count followed by the elements.
type buf []byte

type table struct {
	b      buf
	pos    int // absolute position of the table
	vtab   int // absolute position of the vtable
	vtSize int // vtable size in bytes
	what   string
}

func (b buf) u8(pos int) (uint8, error) {
	if pos < 0 || pos+1 > len(b) {
		return 0, b.oob(pos, 1)
	}
	return b[pos], nil
}

func (b buf) u16(pos int) (uint16, error) {
	if pos < 0 || pos+2 > len(b) {
		return 0, b.oob(pos, 2)
	}
	return binary.LittleEndian.Uint16(b[pos:]), nil
}

func (b buf) u32(pos int) (uint32, error) {
	if pos < 0 || pos+4 > len(b) {
		return 0, b.oob(pos, 4)
	}
	return binary.LittleEndian.Uint32(b[pos:]), nil
}

func (b buf) u64(pos int) (uint64, error) {
	if pos < 0 || pos+8 > len(b) {
		return 0, b.oob(pos, 8)
	}
	return binary.LittleEndian.Uint64(b[pos:]), nil
}

func (b buf) oob(pos, n int) error {
	return formatErrorf("read of %d bytes at offset %d is outside the %d-byte file (truncated or corrupt)", n, pos, len(b))
}

// tableAt reads the table whose position is pos.
func (b buf) tableAt(pos int, what string) (table, error) {
	so, err := b.u32(pos)
	if err != nil {
		return table{}, fmt.Errorf("%s: %w", what, err)
	}
	vt := pos - int(int32(so))
	vs, err := b.u16(vt)
	if err != nil {
		return table{}, formatErrorf("%s: vtable at %d is outside the file", what, vt)
	}
	if vs < 4 || vs%2 != 0 || vt+int(vs) > len(b) {
		return table{}, formatErrorf("%s: vtable size %d at %d is invalid", what, vs, vt)
	}
	ts, _ := b.u16(vt + 2)
	if pos+int(ts) > len(b) {
		return table{}, formatErrorf("%s: table of %d bytes at %d runs past the end of the file", what, ts, pos)
	}
	return table{b: b, pos: pos, vtab: vt, vtSize: int(vs), what: what}, nil
}

// field returns the absolute position of field id, or 0 when it is absent.
func (t table) field(id int) int {
	o := 4 + 2*id
	if o+2 > t.vtSize {
		return 0
	}
	off := int(binary.LittleEndian.Uint16(t.b[t.vtab+o:]))
	if off == 0 {
		return 0
	}
	return t.pos + off
}

func (t table) u8(id int, def uint8) (uint8, error) {
	p := t.field(id)
	if p == 0 {
		return def, nil
	}
	v, err := t.b.u8(p)
	return v, t.wrap(id, err)
}

func (t table) bool(id int, def bool) (bool, error) {
	d := uint8(0)
	if def {
		d = 1
	}
	v, err := t.u8(id, d)
	return v != 0, err
}

func (t table) i32(id int, def int32) (int32, error) {
	p := t.field(id)
	if p == 0 {
		return def, nil
	}
	v, err := t.b.u32(p)
	return int32(v), t.wrap(id, err)
}

func (t table) u32(id int, def uint32) (uint32, error) {
	p := t.field(id)
	if p == 0 {
		return def, nil
	}
	v, err := t.b.u32(p)
	return v, t.wrap(id, err)
}

func (t table) u64(id int, def uint64) (uint64, error) {
	p := t.field(id)
	if p == 0 {
		return def, nil
	}
	v, err := t.b.u64(p)
	return v, t.wrap(id, err)
}

func (t table) f32(id int, def float32) (float32, error) {
	p := t.field(id)
	if p == 0 {
		return def, nil
	}
	v, err := t.b.u32(p)
	return math.Float32frombits(v), t.wrap(id, err)
}

func (t table) wrap(id int, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s field %d: %w", t.what, id, err)
}

// ref follows the uint32 offset stored in field id; ok is false when the
// field is absent.
func (t table) ref(id int) (pos int, ok bool, err error) {
	p := t.field(id)
	if p == 0 {
		return 0, false, nil
	}
	off, err := t.b.u32(p)
	if err != nil {
		return 0, false, t.wrap(id, err)
	}
	target := p + int(off)
	if off == 0 || target >= len(t.b) {
		return 0, false, formatErrorf("%s field %d: offset %d points outside the file", t.what, id, off)
	}
	return target, true, nil
}

// sub reads the table referenced by field id.
func (t table) sub(id int, what string) (table, bool, error) {
	p, ok, err := t.ref(id)
	if !ok || err != nil {
		return table{}, ok, err
	}
	st, err := t.b.tableAt(p, what)
	return st, true, err
}

// vector returns the start of the elements and the element count of the
// vector in field id, checking that count*elemSize bytes exist.
func (t table) vector(id, elemSize int) (start, n int, err error) {
	p, ok, err := t.ref(id)
	if !ok || err != nil {
		return 0, 0, err
	}
	cnt, err := t.b.u32(p)
	if err != nil {
		return 0, 0, t.wrap(id, err)
	}
	start = p + 4
	if uint64(cnt)*uint64(elemSize) > uint64(len(t.b)-start) {
		return 0, 0, formatErrorf("%s field %d: vector of %d elements of %d bytes runs past the end of the file", t.what, id, cnt, elemSize)
	}
	return start, int(cnt), nil
}

func (t table) bytes(id int) ([]byte, error) {
	s, n, err := t.vector(id, 1)
	if err != nil || n == 0 {
		return nil, err
	}
	return t.b[s : s+n : s+n], nil
}

func (t table) str(id int) (string, error) {
	b, err := t.bytes(id)
	return string(b), err
}

func (t table) i32s(id int) ([]int32, error) {
	s, n, err := t.vector(id, 4)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(t.b[s+4*i:]))
	}
	return out, nil
}

func (t table) f32s(id int) ([]float32, error) {
	s, n, err := t.vector(id, 4)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.b[s+4*i:]))
	}
	return out, nil
}

func (t table) i64s(id int) ([]int64, error) {
	s, n, err := t.vector(id, 8)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(t.b[s+8*i:]))
	}
	return out, nil
}

// tables returns the tables of a vector of tables in field id.
func (t table) tables(id int, what string) ([]table, error) {
	s, n, err := t.vector(id, 4)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]table, n)
	for i := range out {
		p := s + 4*i
		off := binary.LittleEndian.Uint32(t.b[p:])
		target := p + int(off)
		if off == 0 || target >= len(t.b) {
			return nil, formatErrorf("%s %d: offset %d points outside the file", what, i, off)
		}
		out[i], err = t.b.tableAt(target, fmt.Sprintf("%s %d", what, i))
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
