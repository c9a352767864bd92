package signing

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"
)

// keyIDLen is the length of a key id: 16 hex digits, 64 bits of SHA-256.
const keyIDLen = 16

// KeyID names a public key: the first 8 bytes of the SHA-256 of its 32
// raw bytes, in lower-case hex. Derived rather than chosen, so a signer
// and a device can never disagree on which key an id means, and a
// trusted-keys file needs no names (comments say whose key it is).
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:keyIDLen/2])
}

func validKeyID(s string) bool {
	if len(s) != keyIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// GenerateKey makes a new key pair from rand (nil: crypto/rand).
func GenerateKey(rand io.Reader) (ed25519.PublicKey, ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return nil, nil, fmt.Errorf("signing: generate key: %w", err)
	}
	return pub, priv, nil
}

// MarshalPrivateKey encodes key as PEM "PRIVATE KEY" (PKCS #8, RFC 8410),
// the format of `openssl genpkey -algorithm ed25519`.
func MarshalPrivateKey(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("signing: encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublicKey encodes pub as PEM "PUBLIC KEY" (PKIX, RFC 8410), the
// format of `openssl pkey -pubout`.
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("signing: encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivateKey reads a PEM "PRIVATE KEY" block holding an ed25519 key
// in PKCS #8. name (the file) is used in errors.
func ParsePrivateKey(data []byte, name string) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("signing: %s: no PEM block; want a \"PRIVATE KEY\" made by `agent fleet keygen` or `openssl genpkey -algorithm ed25519`", name)
	}
	switch block.Type {
	case "PRIVATE KEY":
	case "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("signing: %s: the private key is encrypted; decrypt it (`openssl pkey -in %s -out plain.pem`) and keep that file mode 600", name, name)
	case "OPENSSH PRIVATE KEY":
		return nil, fmt.Errorf("signing: %s: an OpenSSH key; convert it (`ssh-keygen -p -m PKCS8 -f %s`) or make one with `agent fleet keygen`", name, name)
	default:
		return nil, fmt.Errorf("signing: %s: PEM block %q; want \"PRIVATE KEY\" (ed25519, PKCS #8)", name, block.Type)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing: %s: not a PKCS #8 private key: %w", name, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing: %s: a %T; fruitcam signs with ed25519 keys only (`agent fleet keygen`)", name, k)
	}
	return priv, nil
}

// LoadPrivateKey reads a private key file and refuses it unless only its
// owner may read it, as ssh does: a key others can read is no longer
// secret.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("signing: private key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("signing: private key: %w", err)
	}
	if err := checkPrivateMode(path, fi.Mode()); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("signing: private key: %w", err)
	}
	return ParsePrivateKey(data, path)
}

func checkPrivateMode(path string, mode fs.FileMode) error {
	if !mode.IsRegular() {
		return fmt.Errorf("signing: private key %s is not a regular file", path)
	}
	if runtime.GOOS != "windows" && mode.Perm()&0o077 != 0 {
		return fmt.Errorf("signing: private key %s is mode %04o: others may read it; make it readable by its owner only (chmod 600 %s), and make a new key if others did", path, mode.Perm(), path)
	}
	return nil
}

// SavePrivateKey writes key to a new file of mode 600. It never
// overwrites: losing a key in use means re-keying every device.
func SavePrivateKey(path string, key ed25519.PrivateKey) error {
	data, err := MarshalPrivateKey(key)
	if err != nil {
		return err
	}
	return writeNew(path, data, 0o600, "private key")
}

// SavePublicKey writes pub as PEM to a new file of mode 644.
func SavePublicKey(path string, pub ed25519.PublicKey) error {
	data, err := MarshalPublicKey(pub)
	if err != nil {
		return err
	}
	return writeNew(path, data, 0o644, "public key")
}

func writeNew(path string, data []byte, mode fs.FileMode, what string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("signing: %s %s exists; refusing to overwrite it (move it away first)", what, path)
	}
	if err != nil {
		return fmt.Errorf("signing: %s: %w", what, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("signing: %s: %w", what, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("signing: %s: %w", what, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("signing: %s: %w", what, err)
	}
	return nil
}

// TrustedKey is a public key allowed to sign commands and configs.
type TrustedKey struct {
	ID      string // KeyID(Key)
	Key     ed25519.PublicKey
	Comment string // whose key it is, from the file
	Source  string // file:line it came from, for messages
}

// NewTrustedKey wraps pub with its id.
func NewTrustedKey(pub ed25519.PublicKey, comment string) TrustedKey {
	return TrustedKey{ID: KeyID(pub), Key: pub, Comment: comment}
}

// TrustedKeyLine formats pub as one line of a trusted-keys file: the
// base64 of its 32 raw bytes, then the comment.
func TrustedKeyLine(pub ed25519.PublicKey, comment string) string {
	line := b64.EncodeToString(pub)
	if c := strings.Join(strings.Fields(comment), " "); c != "" {
		line += " " + c
	}
	return line
}

// ParsePublicKey reads one public key given as text: the base64 of the
// 32 raw bytes (as in a trusted-keys file, or a config value), the base64
// of its PKIX DER, or a PEM "PUBLIC KEY" block.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-----BEGIN") {
		keys, err := parsePEMPublicKeys([]byte(s), "public key")
		if err != nil {
			return nil, err
		}
		if len(keys) != 1 {
			return nil, fmt.Errorf("signing: public key: %d PEM blocks; want one", len(keys))
		}
		return keys[0].Key, nil
	}
	der, err := b64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("signing: public key %.20q…: not standard base64 (want the line `agent fleet keygen` printed, or PEM): %v", s, err)
	}
	return publicKeyBytes(der)
}

func publicKeyBytes(b []byte) (ed25519.PublicKey, error) {
	if len(b) == ed25519.PublicKeySize {
		return ed25519.PublicKey(b), nil
	}
	k, err := x509.ParsePKIXPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("signing: public key is %d bytes: neither %d raw ed25519 bytes nor PKIX DER: %w", len(b), ed25519.PublicKeySize, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("signing: public key is a %T; fruitcam verifies ed25519 keys only", k)
	}
	return pub, nil
}

func parsePEMPublicKeys(data []byte, name string) ([]TrustedKey, error) {
	var keys []TrustedKey
	rest := data
	for {
		idx := bytes.Index(rest, []byte("-----BEGIN"))
		block, next := pem.Decode(rest)
		if block == nil {
			if idx >= 0 {
				line := 1 + bytes.Count(data[:len(data)-len(rest)+idx], []byte{'\n'})
				return nil, fmt.Errorf("signing: %s:%d: a PEM block that cannot be read (cut short? no END line?)", name, line)
			}
			break
		}
		line := 1 + bytes.Count(data[:len(data)-len(rest)+idx], []byte{'\n'})
		rest = next
		src := fmt.Sprintf("%s:%d", name, line)
		if block.Type != "PUBLIC KEY" {
			hint := ""
			if strings.Contains(block.Type, "PRIVATE") {
				hint = ": this is a private key, which stays with the operator; give the device the public key (`openssl pkey -in key.pem -pubout`)"
			}
			return nil, fmt.Errorf("signing: %s: PEM block %q; want \"PUBLIC KEY\"%s", src, block.Type, hint)
		}
		pub, err := publicKeyBytes(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		k := NewTrustedKey(pub, "")
		k.Source = src
		keys = append(keys, k)
	}
	return keys, nil
}

// ParseTrustedKeys reads a trusted-keys file: either PEM "PUBLIC KEY"
// blocks, or lines each holding one key as base64 (see ParsePublicKey)
// and an optional comment after white space; blank lines and lines
// starting with # are skipped. name (the file) is used in errors. A file
// holding no key is an error: a device that trusts nobody cannot be
// managed.
func ParseTrustedKeys(data []byte, name string) ([]TrustedKey, error) {
	var keys []TrustedKey
	if bytes.Contains(data, []byte("-----BEGIN")) {
		var err error
		if keys, err = parsePEMPublicKeys(data, name); err != nil {
			return nil, err
		}
	} else {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 0, 4096), 64<<10)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || line[0] == '#' {
				continue
			}
			field, comment, _ := strings.Cut(strings.ReplaceAll(line, "\t", " "), " ")
			if strings.HasPrefix(field, "ssh-") {
				return nil, fmt.Errorf("signing: %s:%d: an OpenSSH public key; fruitcam reads PEM or the base64 line `agent fleet keygen` prints (from a PEM key: openssl pkey -in key.pem -pubout)", name, n)
			}
			pub, err := ParsePublicKey(field)
			if err != nil {
				return nil, fmt.Errorf("%w (%s:%d: want a base64 ed25519 public key, then an optional comment)", err, name, n)
			}
			k := NewTrustedKey(pub, strings.TrimSpace(comment))
			k.Source = fmt.Sprintf("%s:%d", name, n)
			keys = append(keys, k)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("signing: %s: %w", name, err)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("signing: %s holds no public key; add the operators' keys (the line `agent fleet keygen` prints)", name)
	}
	return keys, nil
}

// LoadTrustedKeys reads a trusted-keys file (ParseTrustedKeys). It may be
// readable by anyone, but a file others may write would let them add
// their own key, so that is refused.
func LoadTrustedKeys(path string) ([]TrustedKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("signing: trusted keys: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("signing: trusted keys: %w", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("signing: trusted keys %s is mode %04o: others may write it and add their own key; chmod go-w %s", path, fi.Mode().Perm(), path)
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("signing: trusted keys: %w", err)
	}
	return ParseTrustedKeys(data, path)
}
