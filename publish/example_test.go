package publish_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/fruitcam/fruitcam/publish"
)

// A stand-alone board: the embedded broker, the agent's client on it,
// one result and its label.
func Example() {
	ctx := context.Background()
	b, err := publish.StartBroker(ctx, publish.BrokerOptions{
		Listen: "127.0.0.1:0",
		Device: "pi4",
		Users:  map[string]string{"agent": "s3cret", "viewer": "look"},
		Agent:  "agent",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()

	c, err := publish.Connect(ctx, publish.Options{Broker: b.URL(), Device: "pi4", Username: "agent", Password: "s3cret"})
	if err != nil {
		log.Fatal(err)
	}
	meta := publish.Meta{Device: "pi4", Model: publish.Model{Name: "fruit-cnn", Version: "3"}, Backend: "native"}
	r := publish.NewResult(meta, publish.Item{Camera: "belt1", Seq: 1, ID: 1, Frames: 1, Label: "Kiwi", Score: 0.9}, time.Now())
	if err := c.Result(ctx, "belt1", r); err != nil {
		log.Fatal(err)
	}
	if err := c.Label(ctx, "belt1", r.Label); err != nil {
		log.Fatal(err)
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Close(closeCtx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("published to", c.Topics().Result("belt1"))
	// Output: published to fruitcam/pi4/belt1/result
}

func ExampleJSONLines() {
	sink := publish.NewJSONLines(os.Stdout)
	meta := publish.Meta{Device: "pi4", Model: publish.Model{Name: "fruit-cnn", Version: "3"}, Backend: "native"}
	at := time.Date(2025, 11, 29, 9, 41, 7, 0, time.UTC)
	r := publish.NewResult(meta, publish.Item{
		Seq: 7, ID: 3, Frames: 2, Label: "Lemon", Score: 0.75,
		Top:      []publish.Class{{Label: "Lemon", Score: 0.75}, {Label: "Limes", Score: 0.25}},
		Captured: at.Add(-20 * time.Millisecond), Inference: 8 * time.Millisecond,
	}, at)
	if err := sink.Result(context.Background(), "belt1", r); err != nil {
		log.Fatal(err)
	}
	// Output:
	// {"schema":1,"seq":7,"ts":"2025-11-29T09:41:07.000Z","device":"pi4","camera":"belt1","item":3,"frames":2,"label":"Lemon","score":0.75,"top":[{"label":"Lemon","score":0.75},{"label":"Limes","score":0.25}],"model":{"name":"fruit-cnn","version":"3","sha256":""},"backend":"native","latency_ms":{"capture_to_publish":20,"inference":8}}
}

func ExampleDecodeCommand() {
	c, err := publish.DecodeCommand([]byte(`{"id":"42","camera":"belt1"}`))
	fmt.Println(c.ID, c.Camera, err)
	_, err = publish.DecodeCommand([]byte(`{"id":"42","cam":"belt1"}`))
	fmt.Println(err)
	// Output:
	// 42 belt1 <nil>
	// publish: command payload: want nothing or a JSON object such as {"id":"42","camera":"belt1"} (fields: schema, id, camera, label, samples): json: unknown field "cam"
}
