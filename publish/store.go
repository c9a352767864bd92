package publish

import (
	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// memStore is paho's in-memory store of unacknowledged messages with one
// change: it keeps its own copy of each PUBLISH packet. After a
// reconnection paho's resume() sets the DUP flag on every stored packet,
// while a packet published just after the connection came up (the
// "online" announcement, a result) may be in the middle of being written
// by paho's outgoing goroutine: the same object, a data race
// (paho.mqtt.golang issue 703, open for v1.5). With a copy made when the
// packet is stored, before paho hands it to the network, the two never
// share memory. The payload bytes are shared; nobody writes them.
type memStore struct{ *mqtt.MemoryStore }

func newMemStore() memStore { return memStore{mqtt.NewMemoryStore()} }

func (s memStore) Put(key string, m packets.ControlPacket) {
	if p, ok := m.(*packets.PublishPacket); ok {
		c := *p
		m = &c
	}
	s.MemoryStore.Put(key, m)
}
