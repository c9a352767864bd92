package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fruitcam/fruitcam/internal/testdata"
)

// configsDir holds the example configs (configs/ at the module root).
const configsDir = "../../configs"

// configsEnv is what the example configs need from the environment.
var configsEnv = map[string]string{"FRUITCAM_BROKER": "ssl://broker.test:8883"}

func setConfigsEnv(t *testing.T) {
	for k, v := range configsEnv {
		t.Setenv(k, v)
	}
}

// TestConfigs loads every file in configs/: each is valid, reads back
// equal from its effective form, and says what its comments promise.
func TestConfigs(t *testing.T) {
	setConfigsEnv(t)
	fakeHost(t, "", "testhost")
	files, err := filepath.Glob(filepath.Join(configsDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	for _, want := range []string{"demo.yaml", "pi.yaml", "coral-usb.yaml", "jetson.yaml"} {
		if !slices.Contains(names, want) {
			t.Errorf("configs/%s is missing", want)
		}
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, c)
			if check, ok := configChecks[filepath.Base(f)]; ok {
				check(t, c)
			}
		})
	}
}

var configChecks = map[string]func(*testing.T, *Config){
	"demo.yaml": func(t *testing.T, c *Config) {
		s := c.Cameras[0].Source
		if s.Type != SourceFolder || !strings.Contains(s.Path, "images/fruits360/Test/") || !filepath.IsAbs(s.Path) || s.Rate <= 0 {
			t.Errorf("demo source %+v, want the Fruits-360 test folder at a simulated rate, as an absolute path", s)
		}
		if !strings.HasSuffix(c.Model.Path, "models/coral/mobilenet_v2_1.0_224_quant.tflite") || !strings.HasSuffix(c.Model.Labels, "imagenet_labels.txt") {
			t.Errorf("demo model %q labels %q", c.Model.Path, c.Model.Labels)
		}
		if e := c.MQTT.Embedded; !e.Enabled || e.Listen != "127.0.0.1:1883" || len(e.Users) != 1 || c.Stdout.Enabled {
			t.Errorf("demo embedded broker %+v, stdout %v", e, c.Stdout.Enabled)
		}
		if c.Device.ID != "demo" || c.MQTT.ClientID != "fruitcam-demo" {
			t.Errorf("demo device %q client %q", c.Device.ID, c.MQTT.ClientID)
		}
	},
	"pi.yaml": func(t *testing.T, c *Config) {
		s := c.Cameras[0].Source
		if s.Type != SourceV4L2 || s.Formats[0] != FormatYUYV || s.Width != 640 || s.Height != 480 {
			t.Errorf("pi source %+v, want a YUYV 640x480 camera", s)
		}
		if tr := c.Cameras[0].Trigger; tr.Type != TriggerGPIO || tr.Pin == "" {
			t.Errorf("pi trigger %+v, want a GPIO light barrier", tr)
		}
		if len(c.Actuators) == 0 {
			t.Error("pi has no actuator")
		}
		if c.Device.ID != "testhost" || c.MQTT.Broker != "ssl://broker.test:8883" {
			t.Errorf("pi device %q broker %q", c.Device.ID, c.MQTT.Broker)
		}
	},
	"coral-usb.yaml": func(t *testing.T, c *Config) {
		if c.Model.Backend != BackendEdgeTPU || c.Model.EdgeTPU.Device != "usb" || c.Model.EdgeTPU.Watchdog != time.Second {
			t.Errorf("coral backend %q, Edge TPU %+v", c.Model.Backend, c.Model.EdgeTPU)
		}
	},
	"jetson.yaml": func(t *testing.T, c *Config) {
		if c.MQTT.Broker != "ssl://broker.test:8883" || c.Infer.Workers < 2 {
			t.Errorf("jetson broker %q workers %d", c.MQTT.Broker, c.Infer.Workers)
		}
	},
}

// TestConfigsNeedTheirEnvironment: a config whose variable is unset says
// which and where.
func TestConfigsNeedTheirEnvironment(t *testing.T) {
	t.Setenv("FRUITCAM_BROKER", "") // restored after the test
	os.Unsetenv("FRUITCAM_BROKER")
	path := filepath.Join(configsDir, "jetson.yaml")
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), "environment variable FRUITCAM_BROKER is not set") || !strings.HasPrefix(err.Error(), path+":") {
		t.Errorf("Load(jetson.yaml) without FRUITCAM_BROKER = %v", err)
	}
}

// TestDemoOnThisHost: with the shared fixtures present, the demo config
// passes the host checks too, so `make demo` can start.
func TestDemoOnThisHost(t *testing.T) {
	testdata.Path(t, "images/fruits360/Test")
	testdata.Path(t, "models/coral/mobilenet_v2_1.0_224_quant.tflite")
	t.Setenv("FRUITCAM_DEMO_PASSWORD", "demo")
	if dir, err := testdata.Dir(); err == nil && os.Getenv(testdata.EnvVar) == "" {
		// The demo's default path, ../../shared/testdata from configs/,
		// must be the fixture root the tests use.
		want, _ := filepath.Abs(dir)
		got, _ := filepath.Abs(filepath.Join(configsDir, "../../shared/testdata"))
		if got != want {
			t.Errorf("demo.yaml's default testdata %s, want %s", got, want)
		}
	}
	c, err := Load(filepath.Join(configsDir, "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	errs, warnings := c.CheckHost()
	if errs != nil || warnings != nil {
		t.Errorf("demo.yaml on this host: errors %v, warnings %v", errs, warnings)
	}
}
