package config

import (
	"reflect"
	"time"
)

// Default returns the configuration every file starts from: a key the file
// does not set keeps the value here. It is the one place defaults live
// (with DefaultCamera, DefaultActuator and DefaultUser for list entries);
// the reference table in the package documentation lists them, and a test
// keeps the two in agreement.
//
// Three defaults depend on the file or the host and are filled by Resolve
// instead: device.id (machine id, else host name), mqtt.client_id
// ("fruitcam-" + device.id) and relative paths (made absolute against the
// config file's directory).
//
// A Default config is not valid by itself: model.path and at least one
// camera are required.
func Default() *Config {
	return &Config{
		Version: Version,
		Model: Model{
			Backend: BackendNative,
			Threads: 1,
			Top:     5,
			EdgeTPU: EdgeTPU{Watchdog: 2 * time.Second, Retry: 30 * time.Second},
		},
		Infer: Infer{
			Workers: 1,
			Batch:   Batch{Size: 1, Timeout: 20 * time.Millisecond},
		},
		Pipeline: Pipeline{
			Queue:        16,
			Aggregate:    AggregateMean,
			UnknownLabel: "unknown",
		},
		MQTT: MQTT{
			Enabled:       true,
			Broker:        "tcp://127.0.0.1:1883",
			HomeAssistant: HomeAssistant{Prefix: "homeassistant"},
			Spool:         Spool{MaxBytes: 64 << 20, SyncEvery: 200 * time.Millisecond},
			Prefix:        "fruitcam",
			QoS:           1,
			Keepalive:     30 * time.Second,
			Embedded:      Embedded{Listen: "127.0.0.1:1883"},
			StatsInterval: 10 * time.Second,
		},
		HTTP:    HTTP{Listen: "127.0.0.1:9464"},
		Signing: Signing{Window: 2 * time.Minute},
		Fleet:   Fleet{Keep: 5, HealthWindow: time.Minute, FetchTimeout: 5 * time.Minute},
		Log:     Log{Level: LevelInfo, Format: FormatText},
	}
}

// DefaultCamera returns the defaults of an entry of cameras. Source fields
// that do not apply to the source's type are cleared when a file is
// parsed, and so are trigger fields (the trigger type defaults to
// continuous).
func DefaultCamera() Camera {
	return Camera{
		Source: Source{
			Device:  "/dev/video0",
			Formats: []string{FormatYUYV, FormatMJPEG, FormatNV12, FormatGrey},
			Width:   640,
			Height:  480,
			FPS:     30,
			Buffers: 4,
			Timeout: 2 * time.Second,
		},
		Trigger: Trigger{
			Type:     TriggerContinuous,
			Interval: time.Second,
			Edge:     EdgeRising,
			Debounce: 20 * time.Millisecond,
			Frames:   1,
		},
	}
}

// DefaultActuator returns the defaults of an entry of actuators.
func DefaultActuator() Actuator {
	return Actuator{Pulse: 100 * time.Millisecond}
}

// DefaultUser returns the defaults of an entry of mqtt.embedded.users
// (all empty: username and one password source are required).
func DefaultUser() User {
	return User{}
}

// listDefaults gives the decoder the starting value of a new list entry.
var listDefaults = map[reflect.Type]func() reflect.Value{
	reflect.TypeFor[Camera]():   func() reflect.Value { return reflect.ValueOf(DefaultCamera()) },
	reflect.TypeFor[Actuator](): func() reflect.Value { return reflect.ValueOf(DefaultActuator()) },
	reflect.TypeFor[User]():     func() reflect.Value { return reflect.ValueOf(DefaultUser()) },
}
