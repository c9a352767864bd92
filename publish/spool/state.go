package spool

import (
	"encoding/binary"
	"hash/crc32"
)

// The state file ("acked") holds what the records cannot tell after a
// restart: how far the broker acknowledged, and the last seq handed out
// (in case every segment is gone). It has two 32-byte slots written in
// turn, so a torn write of one leaves the other:
//
//	[0:4]   magic "fcak"
//	[4:12]  generation, +1 per write; the valid slot with the highest wins
//	[12:20] acked seq
//	[20:28] last seq
//	[28:32] CRC-32C of [0:28]
const (
	stateName     = "acked"
	stateMagic    = "fcak"
	stateSlotSize = 32
)

type state struct {
	gen, acked, last uint64
}

func (st state) encode() []byte {
	b := make([]byte, 0, stateSlotSize)
	b = append(b, stateMagic...)
	b = binary.LittleEndian.AppendUint64(b, st.gen)
	b = binary.LittleEndian.AppendUint64(b, st.acked)
	b = binary.LittleEndian.AppendUint64(b, st.last)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// offset is where st is written: the slot its generation selects.
func (st state) offset() int64 { return int64(st.gen%2) * stateSlotSize }

// decodeState returns the newest valid slot of a state file's bytes b;
// ok is false when neither slot is valid (a new or destroyed file).
func decodeState(b []byte) (st state, ok bool) {
	for off := 0; off+stateSlotSize <= len(b) && off < 2*stateSlotSize; off += stateSlotSize {
		s := b[off : off+stateSlotSize]
		if string(s[:4]) != stateMagic || crc32.Checksum(s[:28], castagnoli) != binary.LittleEndian.Uint32(s[28:]) {
			continue
		}
		c := state{
			gen:   binary.LittleEndian.Uint64(s[4:]),
			acked: binary.LittleEndian.Uint64(s[12:]),
			last:  binary.LittleEndian.Uint64(s[20:]),
		}
		if !ok || c.gen > st.gen {
			st, ok = c, true
		}
	}
	return st, ok
}
