package spool

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// segmentBytes encodes a segment of base holding recs.
func segmentBytes(base uint64, recs ...Record) []byte {
	b := appendSegmentHeader(nil, base)
	for _, r := range recs {
		b = appendRecord(b, r.Seq, r.Topic, r.Payload)
	}
	return b
}

func TestDecodeSegment(t *testing.T) {
	r1 := Record{Seq: 5, Topic: "fruitcam/d/cam0/result", Payload: []byte(`{"seq":5}`)}
	r2 := Record{Seq: 6, Topic: "fruitcam/d/cam1/result", Payload: nil}
	r3 := Record{Seq: 9, Topic: "t", Payload: bytes.Repeat([]byte{0xff}, 300)}
	good := segmentBytes(5, r1, r2, r3)
	end1 := int64(segHeaderSize) + recordSize(r1.Topic, r1.Payload)
	end2 := end1 + recordSize(r2.Topic, r2.Payload)
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x40
		return b
	}
	zeroTail := append(bytes.Clone(good[:end2]), make([]byte, 100)...)
	oldSeq := segmentBytes(5, r1, Record{Seq: 5, Topic: "t"})
	noTopic := segmentBytes(5, r1)
	binary.LittleEndian.PutUint16(noTopic[segHeaderSize+16:], 0) // CRC now wrong too
	for _, c := range []struct {
		name      string
		b         []byte
		after     uint64
		wantSeqs  []uint64
		wantValid int64
		wantErr   bool
	}{
		{"whole", good, 0, []uint64{5, 6, 9}, int64(len(good)), false},
		{"header only", good[:segHeaderSize], 0, nil, segHeaderSize, false},
		{"short header", good[:7], 0, nil, 0, true},
		{"bad magic", flip(2), 0, nil, 0, true},
		{"torn last", good[:len(good)-1], 0, []uint64{5, 6}, end2, false},
		{"torn length", good[:end2+3], 0, []uint64{5, 6}, end2, false},
		{"flipped payload", flip(int(end1) - 1), 0, nil, segHeaderSize, false},
		{"flipped crc", flip(int(end1) + 5), 0, []uint64{5}, end1, false},
		{"flipped size", flip(int(end1) + 1), 0, []uint64{5}, end1, false},
		{"zeroed tail", zeroTail, 0, []uint64{5, 6}, end2, false},
		{"seq not increasing", oldSeq, 0, []uint64{5}, end1, false},
		{"seq before previous segment", good, 5, nil, segHeaderSize, false},
		{"seq after previous segment", good, 4, []uint64{5, 6, 9}, int64(len(good)), false},
		{"empty topic", noTopic, 0, nil, segHeaderSize, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []uint64
			_, valid, err := decodeSegment(c.b, c.after, func(r Record, _ int64) { got = append(got, r.Seq) })
			if (err != nil) != c.wantErr {
				t.Fatalf("err %v, want error %v", err, c.wantErr)
			}
			if valid != c.wantValid {
				t.Errorf("valid %d, want %d", valid, c.wantValid)
			}
			if !equalSeqs(got, c.wantSeqs) {
				t.Errorf("seqs %v, want %v", got, c.wantSeqs)
			}
		})
	}
}

func equalSeqs(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range []Record{
		{Seq: 1, Topic: "a", Payload: nil},
		{Seq: 1<<64 - 1, Topic: "fruitcam/dev/cam/result", Payload: []byte("x")},
		{Seq: 42, Topic: string(bytes.Repeat([]byte{'t'}, maxTopicLen)), Payload: bytes.Repeat([]byte{0}, 1000)},
	} {
		b := appendRecord(nil, r.Seq, r.Topic, r.Payload)
		if int64(len(b)) != recordSize(r.Topic, r.Payload) {
			t.Errorf("seq %d: %d bytes, recordSize says %d", r.Seq, len(b), recordSize(r.Topic, r.Payload))
		}
		n, err := recordLen(b, int64(len(b)))
		if err != nil || n != int64(len(b)) {
			t.Fatalf("seq %d: recordLen %d, %v; want %d", r.Seq, n, err, len(b))
		}
		got, err := decodeRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		if got.Seq != r.Seq || got.Topic != r.Topic || !bytes.Equal(got.Payload, r.Payload) {
			t.Errorf("got seq %d topic %.20q payload %d bytes, want %d %.20q %d", got.Seq, got.Topic, len(got.Payload), r.Seq, r.Topic, len(r.Payload))
		}
	}
}

func TestStateSlots(t *testing.T) {
	file := make([]byte, 2*stateSlotSize)
	write := func(st state) { copy(file[st.offset():], st.encode()) }
	if _, ok := decodeState(file); ok {
		t.Fatal("zeroed state file decoded")
	}
	write(state{gen: 1, acked: 10, last: 12})
	write(state{gen: 2, acked: 20, last: 25})
	if got, ok := decodeState(file); !ok || got.acked != 20 || got.last != 25 {
		t.Errorf("got %+v %v, want acked 20 last 25", got, ok)
	}
	// A torn write of generation 3 leaves generation 2.
	torn := state{gen: 3, acked: 30, last: 31}.encode()
	copy(file[state{gen: 3}.offset():], torn[:20])
	if got, ok := decodeState(file); !ok || got.gen != 2 || got.acked != 20 {
		t.Errorf("after a torn write got %+v %v, want generation 2", got, ok)
	}
	if got, ok := decodeState(file[:stateSlotSize]); !ok || got.gen != 2 {
		t.Errorf("first slot alone: got %+v %v, want generation 2", got, ok)
	}
}

// FuzzDecodeSegment: arbitrary bytes never panic, and the valid prefix
// decodeSegment reports re-encodes to exactly those bytes.
func FuzzDecodeSegment(f *testing.F) {
	good := segmentBytes(3,
		Record{Seq: 3, Topic: "fruitcam/d/cam0/result", Payload: []byte(`{"schema":1,"seq":3}`)},
		Record{Seq: 4, Topic: "fruitcam/d/cam0/result", Payload: []byte(`{}`)},
		Record{Seq: 7, Topic: "x", Payload: nil})
	f.Add(good, uint64(0))
	f.Add(good[:len(good)-2], uint64(0))
	f.Add(good[:segHeaderSize+5], uint64(2))
	f.Add([]byte(segMagic), uint64(0))
	f.Add([]byte{}, uint64(1))
	f.Fuzz(func(t *testing.T, b []byte, after uint64) {
		var re []byte
		base, valid, err := decodeSegment(b, after, func(r Record, off int64) {
			if off != int64(segHeaderSize+len(re)) {
				t.Fatalf("record seq %d at offset %d, want %d", r.Seq, off, segHeaderSize+len(re))
			}
			re = appendRecord(re, r.Seq, r.Topic, r.Payload)
		})
		if err != nil {
			if valid != 0 {
				t.Fatalf("error %v with valid %d", err, valid)
			}
			return
		}
		if valid > int64(len(b)) {
			t.Fatalf("valid %d of %d bytes", valid, len(b))
		}
		if want := appendSegmentHeader(nil, base); !bytes.Equal(b[:segHeaderSize], want) {
			t.Fatalf("header %x re-encodes as %x", b[:segHeaderSize], want)
		}
		if !bytes.Equal(b[segHeaderSize:valid], re) {
			t.Fatalf("valid records do not re-encode to their bytes")
		}
	})
}

// FuzzDecodeState: arbitrary state bytes never panic; a slot decoded
// re-encodes to its bytes.
func FuzzDecodeState(f *testing.F) {
	f.Add(append(state{gen: 2, acked: 7, last: 9}.encode(), state{gen: 1, acked: 5, last: 5}.encode()...))
	f.Add(state{gen: 1}.encode()[:20])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		st, ok := decodeState(b)
		if !ok {
			return
		}
		e := st.encode()
		if !bytes.Equal(b[:stateSlotSize], e) && (len(b) < 2*stateSlotSize || !bytes.Equal(b[stateSlotSize:2*stateSlotSize], e)) {
			t.Fatalf("decoded %+v is in neither slot", st)
		}
	})
}
