package publish

import (
	"sync"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// retainGuard is a mochi hook that keeps retained-message writes apart
// from retained-message scans. mochi v2.7.9 writes a topic node's
// retainPath under the index lock when a retained message is stored, but
// reads it without a lock when a new wildcard subscription collects the
// retained messages it must receive (TopicsIndex.scanMessages): a data
// race that the race detector reports whenever the agent publishes its
// retained status or label while a consumer subscribes to
// <prefix>/<device>/#, and that could hand the scan a torn string.
//
// The hook holds a lock across exactly those two steps, and across
// nothing that waits for the network, so that a client that stops reading
// cannot stall the others:
//
//   - write: a retained PUBLISH stores its message right after OnPublish
//     and reports it with OnRetainMessage; a retained will likewise between
//     OnWill and OnRetainMessage. Both hold the write lock in between.
//   - scan: a SUBSCRIBE writes its SUBACK (OnPacketSent), then queues the
//     retained messages without blocking, then ends (OnPacketProcessed).
//     The read lock is held from the SUBACK to the end.
//
// A client's packets are processed one at a time on its own goroutine, so
// the per-client marks pair each lock with its unlock. Delayed wills (MQTT
// 5 will delay) would store their message from the broker's timer outside
// such a pair; the acl hook refuses them.
type retainGuard struct {
	mochi.HookBase
	mu      sync.RWMutex
	writing sync.Map // *mochi.Client -> struct{}: holds the write lock
	reading sync.Map // *mochi.Client -> readState
}

type readState int

const (
	subscribing readState = iota // SUBSCRIBE being processed, SUBACK not yet sent
	scanning                     // SUBACK sent, read lock held
)

func (g *retainGuard) ID() string { return "fruitcam-retain-guard" }

func (g *retainGuard) Provides(b byte) bool {
	switch b {
	case mochi.OnPublish, mochi.OnWill, mochi.OnRetainMessage,
		mochi.OnSubscribed, mochi.OnPacketSent, mochi.OnPacketProcessed:
		return true
	}
	return false
}

func (g *retainGuard) OnPublish(cl *mochi.Client, pk packets.Packet) (packets.Packet, error) {
	if pk.FixedHeader.Retain {
		g.mu.Lock()
		g.writing.Store(cl, struct{}{})
	}
	return pk, nil
}

func (g *retainGuard) OnWill(cl *mochi.Client, will mochi.Will) (mochi.Will, error) {
	if will.Retain && cl.Properties.Will.WillDelayInterval == 0 {
		g.mu.Lock()
		g.writing.Store(cl, struct{}{})
	}
	return will, nil
}

func (g *retainGuard) OnRetainMessage(cl *mochi.Client, _ packets.Packet, _ int64) {
	if _, ok := g.writing.LoadAndDelete(cl); ok {
		g.mu.Unlock()
	}
}

func (g *retainGuard) OnSubscribed(cl *mochi.Client, _ packets.Packet, _ []byte) {
	g.reading.Store(cl, subscribing)
}

func (g *retainGuard) OnPacketSent(cl *mochi.Client, pk packets.Packet, _ []byte) {
	if pk.FixedHeader.Type != packets.Suback {
		return
	}
	if s, ok := g.reading.Load(cl); ok && s.(readState) == subscribing {
		g.mu.RLock()
		g.reading.Store(cl, scanning)
	}
}

func (g *retainGuard) OnPacketProcessed(cl *mochi.Client, _ packets.Packet, _ error) {
	if s, ok := g.reading.LoadAndDelete(cl); ok && s.(readState) == scanning {
		g.mu.RUnlock()
	}
}
