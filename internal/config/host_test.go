package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeHost points Resolve at a machine id file and host name of the
// test's choosing.
func fakeHost(t *testing.T, machineID, host string) {
	t.Helper()
	dir := t.TempDir()
	f := filepath.Join(dir, "machine-id")
	if machineID != "" {
		if err := os.WriteFile(f, []byte(machineID+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	oldFiles, oldHost := machineIDFiles, hostname
	machineIDFiles = []string{f}
	hostname = func() (string, error) {
		if host == "" {
			return "", errors.New("no host name")
		}
		return host, nil
	}
	t.Cleanup(func() { machineIDFiles, hostname = oldFiles, oldHost })
}

func TestResolve(t *testing.T) {
	const text = minimal + `  - name: cam1
    source: {type: folder, path: "img/*.jpg"}
  - name: cam2
    source: {type: v4l2, device: video0}
mqtt:
  username: u
  password_file: secret
  embedded:
    enabled: true
    users: [{username: v, password_file: /etc/v}]
`
	tests := []struct {
		machineID, host string
		wantID          string
		wantErr         string
	}{
		{"0123456789abcdef0123456789abcdef", "pi", "0123456789abcdef0123456789abcdef", ""},
		{"", "pi-4", "pi-4", ""},
		{"", "", "", "t.yaml: device.id: not set, and no machine id and no host name (no host name): set device.id"},
		{"", "bad host", "", `the host name "bad host" is not a valid device id`},
	}
	for _, tt := range tests {
		fakeHost(t, tt.machineID, tt.host)
		c, err := parse([]byte(text), "t.yaml", lookupTest)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Resolve("/etc/fruitcam")
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("machine id %q, host %q: Resolve = %v, want %q", tt.machineID, tt.host, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got := []string{c.Device.ID, c.MQTT.ClientID, c.Model.Path, c.Cameras[1].Source.Path, c.Cameras[2].Source.Device, c.MQTT.PasswordFile, c.MQTT.Embedded.Users[0].PasswordFile}
		want := []string{tt.wantID, "fruitcam-" + tt.wantID, "/etc/fruitcam/m.tflite", "/etc/fruitcam/img/*.jpg", "video0", "/etc/fruitcam/secret", "/etc/v"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("resolved %q, want %q", got, want)
		}
		// Idempotent, and an explicit id and client id are kept.
		c.MQTT.ClientID = "mine"
		if err := c.Resolve("/elsewhere"); err != nil || c.Model.Path != "/etc/fruitcam/m.tflite" || c.Device.ID != tt.wantID || c.MQTT.ClientID != "mine" {
			t.Errorf("second Resolve: %v, model %q, id %q, client id %q", err, c.Model.Path, c.Device.ID, c.MQTT.ClientID)
		}
	}
}

func TestLoad(t *testing.T) {
	fakeHost(t, "", "host1")
	dir := t.TempDir()
	path := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(path, []byte(minimal), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Model.Path != filepath.Join(dir, "m.tflite") || c.Device.ID != "host1" {
		t.Errorf("Load: model %q, device %q", c.Model.Path, c.Device.ID)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.HasPrefix(err.Error(), "config: open ") {
		t.Errorf("Load(missing) = %v, want config: open ...", err)
	}
	if err := os.WriteFile(path, []byte(minimal+"bogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || err.Error() != path+":8: bogus: unknown key (allowed here: version, device, model, infer, cameras, pipeline, actuators, mqtt, stdout, http, signing, fleet, log)" {
		t.Errorf("Load(bad) = %v", err)
	}
}

func TestCheckHost(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("m.tflite", 0o644)
	write("open.password", 0o644)
	write("closed.password", 0o600)
	write("notadevice", 0o644)
	if err := os.Mkdir(filepath.Join(dir, "images"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FRUITCAM_TEST_PASSWORD", "p")
	const text = `version: 1
model:
  path: m.tflite
  labels: labels.txt
cameras:
  - name: a
    source: {type: folder, path: images}
  - name: b
    source: {type: folder, path: "images/*.jpg"}
  - name: c
    source: {type: v4l2, device: /dev/fruitcam-no-such-camera}
  - name: d
    source: {type: v4l2, device: /dev/null}
  - name: e
    source: {type: v4l2, device: ` + "${DIR}" + `/notadevice}
  - name: f
    source: {type: folder, path: nowhere}
mqtt:
  username: u
  password_file: open.password
  embedded:
    enabled: true
    users:
      - {username: a, password_file: closed.password}
      - {username: b, password_env: FRUITCAM_TEST_PASSWORD}
      - {username: c, password_env: FRUITCAM_TEST_UNSET}
      - {username: d, password_file: missing.password}
`
	c, err := parse([]byte(strings.ReplaceAll(text, "${DIR}", dir)), "t.yaml", lookupTest)
	if err != nil {
		t.Fatal(err)
	}
	fakeHost(t, "", "h")
	if err := c.Resolve(dir); err != nil {
		t.Fatal(err)
	}
	errs, warnings := c.CheckHost()
	wantErrs := []string{
		"t.yaml:4: model.labels: labels: " + dir + "/labels.txt: no such file or directory",
		"t.yaml:9: cameras[1].source.path: " + dir + "/images/*.jpg matches no file",
		"t.yaml:15: cameras[4].source.device: " + dir + "/notadevice is not a device",
		"t.yaml:17: cameras[5].source.path: image folder: " + dir + "/nowhere: no such file or directory",
		"t.yaml:26: mqtt.embedded.users[2].password_env: environment variable FRUITCAM_TEST_UNSET is not set",
		"t.yaml:27: mqtt.embedded.users[3].password_file: " + dir + "/missing.password: no such file or directory",
	}
	wantWarnings := []string{
		"t.yaml:11: cameras[2].source.device: /dev/fruitcam-no-such-camera is not present; the agent will wait for it",
		"t.yaml:20: mqtt.password_file: " + dir + "/open.password has mode -rw-r--r--: other users can read it (chmod 600 " + dir + "/open.password)",
	}
	if got, want := errs.Error(), strings.Join(wantErrs, "\n"); got != want {
		t.Errorf("errors:\n%s\nwant:\n%s", got, want)
	}
	if got, want := warnings.Error(), strings.Join(wantWarnings, "\n"); got != want {
		t.Errorf("warnings:\n%s\nwant:\n%s", got, want)
	}
}

func TestPassword(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "p")
	if err := os.WriteFile(f, []byte("s3cret\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FRUITCAM_TEST_PASSWORD", "from env\n")
	tests := []struct {
		m       MQTT
		want    string
		wantErr string
	}{
		{MQTT{PasswordFile: f}, "s3cret", ""},
		{MQTT{PasswordEnv: "FRUITCAM_TEST_PASSWORD"}, "from env\n", ""},
		{MQTT{}, "", ""},
		{MQTT{PasswordFile: filepath.Join(dir, "none")}, "", "config: mqtt password: open "},
		{MQTT{PasswordEnv: "FRUITCAM_TEST_UNSET"}, "", "config: mqtt password: environment variable FRUITCAM_TEST_UNSET is not set"},
	}
	for _, tt := range tests {
		got, err := tt.m.Password()
		if got != tt.want || (err == nil) != (tt.wantErr == "") || err != nil && !strings.HasPrefix(err.Error(), tt.wantErr) {
			t.Errorf("%+v.Password() = %q, %v; want %q, %q", tt.m, got, err, tt.want, tt.wantErr)
		}
	}
	u := User{Username: "viewer", PasswordFile: f}
	if got, err := u.Password(); got != "s3cret" || err != nil {
		t.Errorf("User.Password() = %q, %v", got, err)
	}
}
