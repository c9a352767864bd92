package signing

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// go test -run Golden -update rewrites the files in testdata from the
// fixed key (testKey(goldenKey)), time t0 and goldenNonce. ed25519 is
// deterministic, so the envelopes are too.
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func goldenFiles(t *testing.T) map[string][]byte {
	pub, priv := testKey(goldenKey)
	keyPEM, err := MarshalPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := MarshalPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	cmd := command(cmdTopic, cmdBody, t0, string(goldenNonce))
	cmd.KeyID = KeyID(pub)
	cfg := config(cfgTopic, cfgBody, 1764409267123)
	nl := func(b []byte) []byte { return append(b, '\n') }
	return map[string][]byte{
		"golden.key":     keyPEM,
		"golden.pub":     pubPEM,
		"trusted.keys":   []byte("# Keys trusted to sign commands and configs for this device.\n# One base64 ed25519 public key per line, then a comment.\n\n" + TrustedKeyLine(pub, "golden test key (public: never trust it)") + "\n"),
		"command.json":   nl(sign(t, priv, cmd)),
		"command.signed": SignedBytes(cmd),
		"config.json":    nl(sign(t, priv, cfg)),
	}
}

func TestGolden(t *testing.T) {
	for name, want := range goldenFiles(t) {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test -run Golden -update makes it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what Sign makes now; the envelope format changed?\ngot:\n%s\nwant:\n%s", path, got, want)
		}
	}
}

// The golden files verify with keys read from the golden key files.
func TestGoldenVerifies(t *testing.T) {
	keys, err := LoadTrustedKeys(filepath.Join("testdata", "trusted.keys"))
	if err != nil {
		t.Fatal(err)
	}
	pemKeys, err := LoadTrustedKeys(filepath.Join("testdata", "golden.pub"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "golden.key"))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKey(data, "golden.key")
	if err != nil {
		t.Fatal(err)
	}
	if !keys[0].Key.Equal(pemKeys[0].Key) || !keys[0].Key.Equal(priv.Public()) {
		t.Fatalf("trusted.keys, golden.pub and golden.key hold different keys")
	}
	v, err := NewVerifier(keys, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cmd, _ := os.ReadFile(filepath.Join("testdata", "command.json"))
	if m, err := v.VerifyCommand(cmdTopic, cmd, t0); err != nil || string(m.Body) != cmdBody {
		t.Errorf("command.json: got %q, %v", m.Body, err)
	}
	cfg, _ := os.ReadFile(filepath.Join("testdata", "config.json"))
	if m, err := v.VerifyConfig(cfgTopic, cfg, LastConfig{}); err != nil || string(m.Body) != cfgBody {
		t.Errorf("config.json: got %q, %v", m.Body, err)
	}
}

// testdata/openssl.sh builds and signs the golden command with the shell
// and OpenSSL alone, following the package documentation: it must produce
// command.json byte for byte, which proves the documented signed bytes
// are the ones verified and that tools outside Go can sign.
func TestOpenSSLSigns(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	if _, err := exec.LookPath("base64"); err != nil {
		t.Skip("base64 not installed")
	}
	out, err := exec.Command("sh", filepath.Join("testdata", "openssl.sh")).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && bytes.Contains(ee.Stderr, []byte("rawin")) {
			t.Skipf("this openssl cannot sign raw input (OpenSSL 3 can): %s", ee.Stderr)
		}
		t.Fatalf("openssl.sh: %v", err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "command.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("openssl.sh made\n%s\nwant (command.json)\n%s", out, want)
	}
}
