package spool

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxBytes     = 64 << 20
	DefaultSegmentBytes = 4 << 20
	DefaultSyncEvery    = 200 * time.Millisecond
)

// maxSegmentFile bounds the segment files Open reads whole into memory:
// far above any SegmentBytes, far below a 32-bit address space.
const maxSegmentFile = 256 << 20

// Options configure Open. Zero values mean the defaults given.
type Options struct {
	// MaxBytes bounds the bytes of all segment files together; default
	// 64 MiB (about 100,000 results of 600 bytes). Beyond it the oldest
	// segment is deleted, acknowledged or not (an eviction).
	MaxBytes int64
	// MaxRecords bounds the records stored (acknowledged records of the
	// newest segment included); 0, the default, sets no bound.
	MaxRecords int
	// SegmentBytes is the size at which the active segment is closed and
	// a new one started; default the smaller of 4 MiB and MaxBytes/8, at
	// most MaxBytes/2. Eviction removes a whole segment, so this is also
	// how much one eviction loses at most.
	SegmentBytes int64
	// SyncEvery is the group commit period: appended records and
	// acknowledgements are fsynced at most this often, default 200 ms. A
	// record becomes visible to Next once it is durable, so this is also
	// the longest wait a record adds before it is sent.
	SyncEvery time.Duration
	// SyncEachRecord fsyncs within every Append and Ack instead: nothing
	// accepted is lost on power loss, at one fsync per result (milliseconds
	// on an SD card, and its wear). SyncEvery is then unused.
	SyncEachRecord bool
	// OnEvict is called after records were evicted, from the goroutine
	// calling Append, with only the append lock held; it must not block
	// nor call Append.
	OnEvict func(Eviction)
	// Logger receives recoveries, evictions and disk errors (at their
	// start and end, not for each record); default: discarded.
	Logger *slog.Logger
	// FS is the file system; default OSFS(). Tests inject faults here.
	FS FS
	// Clock drives the group commit; default the system clock.
	Clock Clock
}

func (o Options) resolve() (Options, error) {
	if o.MaxBytes < 0 || o.MaxRecords < 0 || o.SegmentBytes < 0 || o.SyncEvery < 0 {
		return o, fmt.Errorf("spool: negative bound (max bytes %d, max records %d, segment bytes %d, sync every %s); leave it 0 for the default", o.MaxBytes, o.MaxRecords, o.SegmentBytes, o.SyncEvery)
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.SegmentBytes == 0 {
		o.SegmentBytes = min(DefaultSegmentBytes, o.MaxBytes/8)
	}
	if o.SegmentBytes > o.MaxBytes/2 {
		return o, fmt.Errorf("spool: segment bytes %d exceed half of max bytes %d; eviction deletes whole segments, so use at most %d", o.SegmentBytes, o.MaxBytes, o.MaxBytes/2)
	}
	if o.SegmentBytes < segHeaderSize+recHeaderSize+64 {
		return o, fmt.Errorf("spool: segment bytes %d are too few for a record; use at least %d (max bytes at least twice that)", o.SegmentBytes, segHeaderSize+recHeaderSize+64)
	}
	if o.SegmentBytes > maxSegmentFile {
		return o, fmt.Errorf("spool: segment bytes %d exceed %d; use smaller segments", o.SegmentBytes, maxSegmentFile)
	}
	if o.SyncEvery == 0 {
		o.SyncEvery = DefaultSyncEvery
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.FS == nil {
		o.FS = OSFS()
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	return o, nil
}

// segmentRecords is how many records a segment may hold: a quarter of
// MaxRecords, so that evicting one segment is always possible and
// always enough.
func (o Options) segmentRecords() uint64 {
	if o.MaxRecords == 0 {
		return 0
	}
	return uint64(max(1, o.MaxRecords/4))
}

// Eviction describes the records of one deleted segment that had not
// been acknowledged: lost, a gap in the seqs consumers see.
type Eviction struct {
	Segment     string // file name
	Records     int    // unacknowledged records deleted
	First, Last uint64 // their seq range
}

// Stats are the spool's figures. Counters count since Open.
type Stats struct {
	Appended   uint64 // records stored
	Acked      uint64 // stored records acknowledged (delivered)
	Evicted    uint64 // unacknowledged records deleted to stay within the bounds (some may have been sent, unacknowledged)
	Failed     uint64 // Append calls that returned an error (each a lost result)
	Corrupt    uint64 // records found damaged while reading and dropped
	TornBytes  int64  // bytes dropped by Open at torn segment ends
	SyncErrors uint64 // failed fsyncs and state writes

	Depth    int    // records stored and not acknowledged
	Bytes    int64  // bytes of the segment files
	Segments int    // segment files
	LastSeq  uint64 // the last seq handed out by Append
	AckedSeq uint64 // records up to this seq are acknowledged
	Synced   uint64 // records up to this seq are durable (and visible to Next)

	// Healthy is false while appends or fsyncs fail (until one succeeds).
	Healthy     bool
	LastError   error // the latest append, sync or read error, nil if none
	LastErrorAt time.Time
}
