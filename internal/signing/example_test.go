package signing_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/fruitcam/fruitcam/internal/signing"
)

// An operator's tool signs a pause command for device belt-a; the device
// verifies it once, and refuses the same message sent again.
func Example() {
	pub, priv, err := signing.GenerateKey(nil)
	if err != nil {
		panic(err)
	}
	// On the device: the trusted keys, usually from LoadTrustedKeys.
	v, err := signing.NewVerifier([]signing.TrustedKey{signing.NewTrustedKey(pub, "alice")}, signing.Options{})
	if err != nil {
		panic(err)
	}

	// On the operator's machine.
	topic := "fruitcam/belt-a/cmd/pause"
	now := time.Now()
	payload, err := signing.Sign(priv, signing.Message{Purpose: signing.Command, Topic: topic, Body: []byte(`{"id":"42"}`), Time: now})
	if err != nil {
		panic(err)
	}

	// On the device, in the command handler.
	m, err := v.VerifyCommand(topic, payload, now.Add(300*time.Millisecond))
	fmt.Println(string(m.Body), err)
	_, err = v.VerifyCommand(topic, payload, now.Add(time.Second))
	fmt.Println(errors.Is(err, signing.ErrReplayed))
	_, err = v.VerifyCommand("fruitcam/belt-b/cmd/pause", payload, now)
	fmt.Println(errors.Is(err, signing.ErrWrongTopic))
	// Output:
	// {"id":"42"} <nil>
	// true
	// true
}

// A fleet config is accepted when its version is above the last one the
// device handled; the retained copy delivered again after a reconnect is
// ErrCurrentVersion, to be ignored.
func ExampleVerifier_VerifyConfig() {
	pub, priv, _ := signing.GenerateKey(nil)
	v, _ := signing.NewVerifier([]signing.TrustedKey{signing.NewTrustedKey(pub, "")}, signing.Options{})
	topic := "fruitcam/fleet/line1/config"
	payload, _ := signing.Sign(priv, signing.Message{Purpose: signing.Config, Topic: topic, Body: []byte("version: 1\n"), Version: 7, Time: time.Now()})

	var last signing.LastConfig // LoadLastConfig(path) on a device
	m, err := v.VerifyConfig(topic, payload, last)
	fmt.Println(m.Version, err)
	last = m.Last() // SaveLastConfig(path, last) once handled
	_, err = v.VerifyConfig(topic, payload, last)
	fmt.Println(errors.Is(err, signing.ErrCurrentVersion))
	// Output:
	// 7 <nil>
	// true
}
