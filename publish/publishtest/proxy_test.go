package publishtest_test

import (
	"context"
	"testing"

	"github.com/fruitcam/fruitcam/publish"
	"github.com/fruitcam/fruitcam/publish/publishtest"
)

// A test waits for what it expects instead of sleeping; here the will of
// an agent whose connection is cut.
func TestLastWillThroughProxy(t *testing.T) {
	b, err := publish.StartBroker(context.Background(), publish.BrokerOptions{Listen: "127.0.0.1:0", Device: "dev1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	proxy := publishtest.NewProxy(t, b.Addr())
	sub := publishtest.Subscribe(t, publishtest.Conn{Broker: b.URL()}, "fruitcam/dev1/#")

	agent := publishtest.Conn{Broker: proxy.URL(), WillTopic: "fruitcam/dev1/status", WillPayload: "offline"}
	publishtest.Publish(t, publishtest.Dial(t, agent), "fruitcam/dev1/status", 1, true, []byte("online"))
	sub.Expect(t, "fruitcam/dev1/status", "online")
	proxy.Cut()
	sub.Expect(t, "fruitcam/dev1/status", "offline")

	// The proxy refuses connections until Resume.
	if _, err := publishtest.TryDial(publishtest.Conn{Broker: proxy.URL()}, nil); err == nil {
		t.Errorf("dial through a cut proxy: got nil error")
	}
	proxy.Resume()
	publishtest.Dial(t, publishtest.Conn{Broker: proxy.URL()})
}
