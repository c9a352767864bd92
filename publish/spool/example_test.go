package spool_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/fruitcam/fruitcam/publish/spool"
)

// The pipeline appends results; the MQTT sender waits, sends the oldest
// records and acknowledges what the broker acknowledged.
func Example() {
	dir, err := os.MkdirTemp("", "spool")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sp, err := spool.Open(dir, spool.Options{MaxBytes: 64 << 20})
	if err != nil {
		log.Fatal(err)
	}
	defer sp.Close()

	// Producer: the payload carries its seq.
	for _, camera := range []string{"cam0", "cam1", "cam0"} {
		_, err := sp.AppendFunc("fruitcam/dev1/"+camera+"/result", func(seq uint64) ([]byte, error) {
			return fmt.Appendf(nil, `{"seq":%d}`, seq), nil
		})
		if err != nil {
			log.Print(err) // counted in Stats().Failed: a lost result
		}
	}

	// Consumer.
	ctx := context.Background()
	for sp.Stats().Depth > 0 {
		if err := sp.Wait(ctx); err != nil {
			log.Fatal(err)
		}
		recs, err := sp.Next(16)
		if err != nil {
			log.Fatal(err)
		}
		for _, r := range recs {
			fmt.Printf("publish %s %s\n", r.Topic, r.Payload) // QoS 1, wait for PUBACK
			if err := sp.Ack(r.Seq); err != nil {
				log.Fatal(err)
			}
		}
	}
	st := sp.Stats()
	fmt.Println("appended", st.Appended, "acked", st.Acked, "depth", st.Depth)
	// Output:
	// publish fruitcam/dev1/cam0/result {"seq":1}
	// publish fruitcam/dev1/cam1/result {"seq":2}
	// publish fruitcam/dev1/cam0/result {"seq":3}
	// appended 3 acked 3 depth 0
}
