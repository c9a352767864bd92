package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// On-disk layout, all integers little endian.
//
// A segment file starts with a 16-byte header:
//
//	[0:8]   magic "fcspool\x01" (the last byte is the format version)
//	[8:16]  base: the seq the segment was created for; the file is named
//	        after it (%016x.seg) and every record in it has seq >= base
//
// followed by records, each an 18-byte header, the topic and the payload:
//
//	[0:4]   size: bytes after these first 8 (18-8+len(topic)+len(payload))
//	[4:8]   CRC-32C (Castagnoli) of the size bytes that follow
//	[8:16]  seq
//	[16:18] topic length
//	[18:]   topic, then payload
//
// A record whose size runs past the end of the file, whose CRC does not
// match, whose fields are inconsistent or whose seq does not increase ends
// the valid part of a segment: everything after it is a torn write.
const (
	segMagic      = "fcspool\x01"
	segHeaderSize = 16
	recHeaderSize = 18
	recMinSize    = recHeaderSize - 8 // the smallest size field: seq and topic length
	maxTopicLen   = 1<<16 - 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Record is one stored message.
type Record struct {
	Seq     uint64
	Topic   string
	Payload []byte
}

// recordSize is the number of bytes r takes in a segment.
func recordSize(topic string, payload []byte) int64 {
	return int64(recHeaderSize) + int64(len(topic)) + int64(len(payload))
}

// appendRecord appends the encoding of one record to dst.
func appendRecord(dst []byte, seq uint64, topic string, payload []byte) []byte {
	start := len(dst)
	size := recHeaderSize - 8 + len(topic) + len(payload)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(size))
	dst = binary.LittleEndian.AppendUint32(dst, 0) // CRC, below
	dst = binary.LittleEndian.AppendUint64(dst, seq)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(topic)))
	dst = append(dst, topic...)
	dst = append(dst, payload...)
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(dst[start+8:], castagnoli))
	return dst
}

func appendSegmentHeader(dst []byte, base uint64) []byte {
	dst = append(dst, segMagic...)
	return binary.LittleEndian.AppendUint64(dst, base)
}

// errTorn marks the end of the valid part of a segment.
var errTorn = errors.New("spool: torn or corrupt record")

// decodeSegmentHeader checks the header of a segment file and returns its base seq.
func decodeSegmentHeader(b []byte) (uint64, error) {
	if len(b) < segHeaderSize {
		return 0, fmt.Errorf("spool: segment header is %d bytes, want %d: %w", len(b), segHeaderSize, errTorn)
	}
	if string(b[:8]) != segMagic {
		return 0, fmt.Errorf("spool: segment has magic %q, want %q (not a spool segment, or a newer format): %w", b[:8], segMagic, errTorn)
	}
	return binary.LittleEndian.Uint64(b[8:16]), nil
}

// recordLen returns the full length of the record starting at b from its
// first 4 bytes, or an error when b cannot be the start of a record of at
// most limit bytes.
func recordLen(b []byte, limit int64) (int64, error) {
	if len(b) < 4 {
		return 0, errTorn
	}
	size := int64(binary.LittleEndian.Uint32(b))
	if size < recMinSize || size+8 > limit {
		return 0, errTorn
	}
	return size + 8, nil
}

// decodeRecord decodes the record at the start of b, which must hold
// exactly the record's bytes (recordLen). The topic is copied; the
// payload aliases b.
func decodeRecord(b []byte) (Record, error) {
	if len(b) < recHeaderSize || int64(len(b)) != int64(binary.LittleEndian.Uint32(b))+8 {
		return Record{}, errTorn
	}
	if crc32.Checksum(b[8:], castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return Record{}, errTorn
	}
	tl := int(binary.LittleEndian.Uint16(b[16:]))
	if tl == 0 || recHeaderSize+tl > len(b) {
		return Record{}, errTorn
	}
	return Record{
		Seq:     binary.LittleEndian.Uint64(b[8:]),
		Topic:   string(b[recHeaderSize : recHeaderSize+tl]),
		Payload: b[recHeaderSize+tl:],
	}, nil
}

// decodeSegment walks the records of a whole segment file b, calling fn
// with each record and its offset, and returns the length of the valid
// prefix of b: the header and every complete record up to the first one
// that is torn, corrupt, or whose seq is not greater than after (the last
// seq before the segment) and than its predecessor's. err is non-nil when
// the header itself is bad (valid is then 0); a torn tail is not an error,
// it is valid < len(b).
func decodeSegment(b []byte, after uint64, fn func(r Record, off int64)) (base uint64, valid int64, err error) {
	base, err = decodeSegmentHeader(b)
	if err != nil {
		return 0, 0, err
	}
	if base == 0 {
		return 0, 0, fmt.Errorf("spool: segment base seq is 0: %w", errTorn)
	}
	off := int64(segHeaderSize)
	last := max(after, base-1)
	for off < int64(len(b)) {
		n, err := recordLen(b[off:], int64(len(b))-off)
		if err != nil {
			break
		}
		r, err := decodeRecord(b[off : off+n])
		if err != nil || r.Seq <= last {
			break
		}
		if fn != nil {
			fn(r, off)
		}
		last = r.Seq
		off += n
	}
	return base, off, nil
}
