package signing

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPrivateKeyFiles(t *testing.T) {
	dir := t.TempDir()
	pub, priv, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	keyPath, pubPath := filepath.Join(dir, "ops.key"), filepath.Join(dir, "ops.pub")
	if err := SavePrivateKey(keyPath, priv); err != nil {
		t.Fatal(err)
	}
	if err := SavePublicKey(pubPath, pub); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("private key file mode %04o, want 0600", got)
	}
	got, err := LoadPrivateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(priv) {
		t.Errorf("loaded private key differs from the saved one")
	}
	keys, err := LoadTrustedKeys(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || !keys[0].Key.Equal(pub) || keys[0].ID != KeyID(pub) || keys[0].Source != pubPath+":1" {
		t.Errorf("got %+v, want the saved public key from %s:1", keys, pubPath)
	}

	// Never overwrite a key.
	if err := SavePrivateKey(keyPath, priv); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Errorf("second save: got %v, want a refusal to overwrite", err)
	}

	for _, mode := range []os.FileMode{0o640, 0o604, 0o620, 0o644} {
		if err := os.Chmod(keyPath, mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadPrivateKey(keyPath)
		if err == nil || !strings.Contains(err.Error(), "chmod 600 "+keyPath) {
			t.Errorf("mode %04o: got %v, want a refusal naming the file and chmod 600", mode, err)
		}
	}
	if _, err := LoadPrivateKey(filepath.Join(dir, "missing.key")); err == nil || !strings.Contains(err.Error(), "missing.key") {
		t.Errorf("missing file: got %v, want an error naming it", err)
	}
	if _, err := LoadPrivateKey(dir); err == nil {
		t.Errorf("a directory: got no error")
	}
}

func TestParsePrivateKeyErrors(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), bytes.NewReader(bytes.Repeat([]byte{7}, 1024)))
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	block := func(typ string, b []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}) }
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{name: "empty", data: nil, want: "no PEM block"},
		{name: "base64 line", data: []byte("MC4CAQAwBQYDK2VwBCIEIA==\n"), want: "no PEM block"},
		{name: "encrypted", data: block("ENCRYPTED PRIVATE KEY", []byte{1}), want: "encrypted"},
		{name: "openssh", data: block("OPENSSH PRIVATE KEY", []byte{1}), want: "ssh-keygen -p -m PKCS8"},
		{name: "public key", data: block("PUBLIC KEY", []byte{1}), want: `"PUBLIC KEY"`},
		{name: "garbage DER", data: block("PRIVATE KEY", []byte{1, 2, 3}), want: "not a PKCS #8"},
		{name: "ecdsa", data: block("PRIVATE KEY", ecDER), want: "ed25519 keys only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePrivateKey(tt.data, "ops.key")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "ops.key") {
				t.Errorf("got %v, want an error naming ops.key containing %q", err, tt.want)
			}
		})
	}
}

func TestParseTrustedKeys(t *testing.T) {
	pubA, _ := testKey("operator A")
	pubB, _ := testKey("operator B")
	pemA, _ := MarshalPublicKey(pubA)
	pemB, _ := MarshalPublicKey(pubB)
	derB, _ := x509.MarshalPKIXPublicKey(pubB)
	lines := "# operators of line 1\n\n" + TrustedKeyLine(pubA, "alice  (2026)") + "\n\t" + b64.EncodeToString(derB) + "\tci key\n"
	keys, err := ParseTrustedKeys([]byte(lines), "trusted.keys")
	if err != nil {
		t.Fatal(err)
	}
	want := []TrustedKey{
		{ID: KeyID(pubA), Key: pubA, Comment: "alice (2026)", Source: "trusted.keys:3"},
		{ID: KeyID(pubB), Key: pubB, Comment: "ci key", Source: "trusted.keys:4"},
	}
	checkKeys(t, keys, want)

	keys, err = ParseTrustedKeys(append(append([]byte("two keys\n"), pemA...), pemB...), "keys.pem")
	if err != nil {
		t.Fatal(err)
	}
	checkKeys(t, keys, []TrustedKey{
		{ID: KeyID(pubA), Key: pubA, Source: "keys.pem:2"},
		{ID: KeyID(pubB), Key: pubB, Source: "keys.pem:5"},
	})

	_, privA := testKey("operator A")
	privPEM, _ := MarshalPrivateKey(privA)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), bytes.NewReader(bytes.Repeat([]byte{7}, 1024)))
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	bad := []struct {
		name, data, want string
	}{
		{name: "empty", data: "", want: "holds no public key"},
		{name: "only comments", data: "# nobody yet\n", want: "holds no public key"},
		{name: "bad base64", data: "# x\nnot-base64!\n", want: "trusted.keys:2"},
		{name: "wrong length", data: b64.EncodeToString([]byte("sixteen bytes!!!")) + "\n", want: "neither 32 raw ed25519 bytes"},
		{name: "ecdsa line", data: b64.EncodeToString(ecDER), want: "ed25519 keys only"},
		{name: "ecdsa PEM", data: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER})), want: "trusted.keys:1"},
		{name: "private key", data: string(privPEM), want: "stays with the operator"},
		{name: "cut PEM", data: string(pemA) + string(pemB[:40]), want: "trusted.keys:4"},
		{name: "openssh", data: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK alice@laptop\n", want: "OpenSSH"},
		{name: "line too long", data: strings.Repeat("A", 70<<10), want: "too long"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTrustedKeys([]byte(tt.data), "trusted.keys")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func checkKeys(t *testing.T, got, want []TrustedKey) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d keys, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.ID != w.ID || !g.Key.Equal(w.Key) || g.Comment != w.Comment || g.Source != w.Source {
			t.Errorf("key %d: got {%s %q %s}, want {%s %q %s}", i, g.ID, g.Comment, g.Source, w.ID, w.Comment, w.Source)
		}
	}
}

func TestLoadTrustedKeysMode(t *testing.T) {
	pub, _ := testKey("operator A")
	path := filepath.Join(t.TempDir(), "trusted.keys")
	if err := os.WriteFile(path, []byte(TrustedKeyLine(pub, "a")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTrustedKeys(path); err != nil {
		t.Errorf("mode 0644: %v", err)
	}
	if err := os.Chmod(path, 0o664); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTrustedKeys(path); err == nil || !strings.Contains(err.Error(), "chmod go-w "+path) {
		t.Errorf("mode 0664: got %v, want a refusal naming the fix", err)
	}
}

func TestParsePublicKey(t *testing.T) {
	pub, _ := testKey("operator A")
	p, _ := MarshalPublicKey(pub)
	der, _ := x509.MarshalPKIXPublicKey(pub)
	for _, s := range []string{b64.EncodeToString(pub), " " + b64.EncodeToString(der) + "\n", string(p)} {
		got, err := ParsePublicKey(s)
		if err != nil {
			t.Errorf("ParsePublicKey(%q): %v", s, err)
			continue
		}
		if !got.Equal(pub) {
			t.Errorf("ParsePublicKey(%q) = %x, want %x", s, got, pub)
		}
	}
	if _, err := ParsePublicKey(string(p) + string(p)); err == nil {
		t.Errorf("two PEM blocks: got no error")
	}
}

func TestKeyID(t *testing.T) {
	pub := ed25519.PublicKey(make([]byte, 32))
	// SHA-256 of 32 zero bytes is 66687aadf862bd77...
	if got, want := KeyID(pub), "66687aadf862bd77"; got != want {
		t.Errorf("KeyID(zeros) = %s, want %s", got, want)
	}
}
