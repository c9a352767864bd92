//go:build tfliteref

package conformance

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/infer/tfl"
	"github.com/fruitcam/fruitcam/internal/tfliteref"
)

// withOutput returns a copy of a .tflite file whose subgraph 0 has tensor
// as its only output. Neither runtime reuses an output's memory, so the
// C library then reveals an intermediate tensor it otherwise overwrites.
// The outputs vector is rewritten in place (count 1, first element), which
// keeps every offset in the file valid.
func withOutput(model []byte, tensor int) ([]byte, error) {
	b := append([]byte(nil), model...)
	le := binary.LittleEndian
	u32 := func(p int) (int, error) {
		if p < 0 || p+4 > len(b) {
			return 0, fmt.Errorf("offset %d outside the file", p)
		}
		return int(le.Uint32(b[p:])), nil
	}
	// field returns the absolute position of a table's field, 0 if absent.
	field := func(table, id int) (int, error) {
		so, err := u32(table)
		if err != nil {
			return 0, err
		}
		vt := table - int(int32(so))
		if vt < 0 || vt+4 > len(b) {
			return 0, fmt.Errorf("vtable outside the file")
		}
		if 4+2*id+2 > int(le.Uint16(b[vt:])) {
			return 0, nil
		}
		off := int(le.Uint16(b[vt+4+2*id:]))
		if off == 0 {
			return 0, nil
		}
		return table + off, nil
	}
	deref := func(p int) (int, error) {
		o, err := u32(p)
		return p + o, err
	}
	root, err := u32(0)
	if err != nil {
		return nil, err
	}
	f, err := field(root, 2) // Model.subgraphs
	if err != nil || f == 0 {
		return nil, fmt.Errorf("no subgraphs: %v", err)
	}
	vec, err := deref(f)
	if err != nil {
		return nil, err
	}
	sg, err := deref(vec + 4)
	if err != nil {
		return nil, err
	}
	f, err = field(sg, 2) // SubGraph.outputs
	if err != nil || f == 0 {
		return nil, fmt.Errorf("no outputs: %v", err)
	}
	outs, err := deref(f)
	if err != nil {
		return nil, err
	}
	if n, err := u32(outs); err != nil || n < 1 || outs+8 > len(b) {
		return nil, fmt.Errorf("outputs vector: %v", err)
	}
	le.PutUint32(b[outs:], 1)
	le.PutUint32(b[outs+4:], uint32(tensor))
	return b, nil
}

// bisect runs input through both the C library and the native engine with
// each operator's output promoted to the model output, in operator order,
// and reports the first operator whose output differs, and the first that
// breaks the bars: where to look when a model fails.
func bisect(t *testing.T, fx *fixture, in Input) {
	t.Helper()
	sg := fx.file.Model.Subgraphs[0]
	firstDiff := ""
	for i, op := range sg.Operators {
		ti := op.Outputs[0]
		tt := sg.Tensors[ti]
		if tt.Type != tfl.Float32 && tt.Type != tfl.Uint8 && tt.Type != tfl.Int8 {
			continue
		}
		patched, err := withOutput(fx.file.Data, ti)
		if err != nil {
			t.Logf("bisect: %v", err)
			return
		}
		cr, err := tfliteref.RunC(patched, in.Data, tfliteref.Options{Threads: 1})
		if err != nil {
			t.Logf("bisect: C library at operator %d: %v", i, err)
			return
		}
		m, err := tfl.Parse(patched)
		if err != nil {
			t.Logf("bisect: %v", err)
			return
		}
		got, err := runNative(&infer.File{Path: fx.file.Path, Data: patched, Model: m}, []Input{in}, 1, 1)
		if err != nil {
			t.Logf("bisect: native at operator %d: %v", i, err)
			return
		}
		d, err := Compare(tt.Type, tt.Shape, got[0][0], cr.Outputs[0].Data)
		if err != nil {
			t.Logf("bisect: %v", err)
			return
		}
		name := fx.file.Model.OperatorCodes[op.OpcodeIndex].Name()
		where := fmt.Sprintf("operator %d (%s %v, output %q %s%v): max %s, histogram %s", i, name, optionsOf(op), tt.Name, tt.Type, tt.Shape, d.Max(), d.Histogram())
		if (d.Float && d.MaxRel > 0) || (!d.Float && d.MaxSteps > 0) {
			if firstDiff == "" {
				firstDiff = where
				t.Logf("bisect %s: first difference at %s", in.Name, where)
			}
			if d.MaxRel > MaxRelErr || d.MaxSteps > MaxSteps {
				t.Logf("bisect %s: first failure at %s", in.Name, where)
				return
			}
		}
	}
	if firstDiff == "" {
		t.Logf("bisect %s: every operator output matches the C library", in.Name)
	}
}

func optionsOf(op tfl.Operator) string {
	if op.Options == nil {
		return "{}"
	}
	return fmt.Sprintf("%+v", op.Options)
}
