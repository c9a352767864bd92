// Package spool is the agent's store-and-forward queue: results are
// appended to a bounded, crash-safe queue on disk and handed to the MQTT
// sender, which removes them only once the broker acknowledged them (QoS
// 1, PUBACK). Delivery is at least once: after a crash or a lost
// connection a few records are sent again, and consumers de-duplicate by
// seq. Records are opaque payloads with a topic and a seq that the spool
// hands out, from 1, never reused for a record anyone may have seen, also
// across restarts.
//
// # Files
//
// One directory per agent (e.g. /var/lib/fruitcam/spool) holds segment
// files named after the seq they start at (%016x.seg), appended to and
// never rewritten, and a 64-byte state file "acked" with the acknowledged
// seq. Each record has an 18-byte header: length, CRC-32C (Castagnoli)
// and seq (see record.go for the layout). Open reads every segment and
// stops at the first record whose length, CRC or seq does not fit: a
// write torn by a crash is cut off and every record before it kept. A
// segment is closed (fsynced) at SegmentBytes and a new one started; old
// segments are deleted when fully acknowledged. The newest segment is
// kept even when acknowledged, so that its name and records carry the
// last seq across restarts.
//
// # Bounds and eviction
//
// MaxBytes (and MaxRecords) bound what is on disk. An append that would
// exceed them deletes the oldest segment first, acknowledged or not; its
// unacknowledged records are counted (Stats.Evicted), logged and passed
// to Options.OnEvict, and consumers see the gap in the seqs. Append
// writes to the operating system's page cache and returns: it waits for
// no fsync (except at a segment change) and never for the consumer.
//
// # Durability (fsync policy)
//
// The default is a group commit: at most every SyncEvery (200 ms) a
// background goroutine fsyncs the records appended and the
// acknowledgements made since the last one. The consumer sees a record
// only once it is durable, so no record that reached the broker can be
// lost and its seq given to another result. What a power loss costs:
//
//   - the results appended in the last SyncEvery (at 10 results/s, two);
//     they were never sent. A crash of the process alone loses nothing:
//     the page cache survives it.
//   - the acknowledgements of the last SyncEvery: those records are sent
//     again after the restart (duplicates, which consumers drop by seq).
//
// SyncEachRecord fsyncs within every Append and Ack instead: nothing is
// lost, at the price of one fsync per result (milliseconds on an SD card,
// and its wear). The directory is fsynced after a segment is created,
// before records go into it, and lazily after segments are deleted (a
// deletion undone by a power loss only brings back records sent again or
// evicted again).
//
// # Errors
//
// An append that cannot be written (a full disk: errors.Is(err,
// syscall.ENOSPC)) returns the error and counts it (Stats.Failed); the
// partial write is cut off, the queue stays consistent and the seq is
// used up, a gap like an eviction. Appends succeed again by themselves
// once there is space. Stats.Healthy is false while appends or fsyncs
// fail, the agent's "disk queue" health. Damage found later while reading
// drops the rest of that segment (Stats.Corrupt) instead of stopping
// delivery.
//
// # Concurrency
//
// One producer (the pipeline's sink) and one consumer (the MQTT sender)
// run at the same time: the consumer calls Wait, which sleeps until there
// is something, then Next, sends, and Ack. A directory must be open in one
// process at a time.
package spool
