package modelstore

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"
)

// Ref is a parsed model reference.
type Ref struct {
	// URL is the http or https URL to download, empty for local files.
	URL string
	// Path is the absolute path of a local file (a file:// URL or a plain
	// path), empty for URLs.
	Path string
	// Ext is the file name extension the stored copy gets (".tflite",
	// ".txt"), from the reference's last path element; empty when that
	// has none or an odd one. Loaders pick formats by it.
	Ext string
}

// String is the reference as errors name it: the URL, or the path.
func (r Ref) String() string {
	if r.URL != "" {
		return r.URL
	}
	return r.Path
}

// Remote reports whether r is downloaded (http or https).
func (r Ref) Remote() bool { return r.URL != "" }

// IsURL reports whether ref is written as a URL (http://, https://,
// file://), the form of model.path that a config must pin with a sha256.
func IsURL(ref string) bool {
	i := strings.Index(ref, "://")
	if i <= 0 {
		return false
	}
	switch strings.ToLower(ref[:i]) {
	case "http", "https", "file":
		return true
	}
	return false
}

// ParseRef checks a model reference: an http:// or https:// URL, a
// file:///abs/path URL, or a plain absolute path.
func ParseRef(ref string) (Ref, error) {
	switch {
	case ref == "":
		return Ref{}, errors.New("modelstore: empty model reference; want an http(s):// URL, a file:///abs/path or an absolute path")
	case strings.HasPrefix(ref, "/"):
		return localRef(ref, ref)
	}
	u, err := url.Parse(ref)
	if err != nil {
		return Ref{}, fmt.Errorf("modelstore: model reference %.200q: %w", ref, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "":
		return Ref{}, fmt.Errorf("modelstore: model reference %.200q is a relative path; boards resolve it against nothing: give an absolute path or an http(s):// URL", ref)
	case "http", "https":
		if u.User != nil {
			return Ref{}, fmt.Errorf("modelstore: model reference %.200q: user:password in a URL would put a secret into a config published to every board; serve the model without credentials (or on a network only the boards reach)", u.Redacted())
		}
		if u.Host == "" || u.Opaque != "" {
			return Ref{}, fmt.Errorf("modelstore: model reference %.200q has no host; want http(s)://host/path", ref)
		}
		return Ref{URL: ref, Ext: ext(path.Base(u.Path))}, nil
	case "file":
		if u.User != nil || (u.Host != "" && u.Host != "localhost") {
			return Ref{}, fmt.Errorf("modelstore: model reference %.200q names a host; file:// URLs are local to the board: write file:///abs/path", ref)
		}
		if u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
			return Ref{}, fmt.Errorf("modelstore: model reference %.200q is not absolute; write file:///abs/path (three slashes)", ref)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return Ref{}, fmt.Errorf("modelstore: model reference %.200q: a file:// URL takes no query or fragment", ref)
		}
		return localRef(ref, u.Path)
	default:
		return Ref{}, fmt.Errorf("modelstore: model reference %.200q: scheme %q is not supported; want http, https or file", ref, u.Scheme)
	}
}

func localRef(ref, p string) (Ref, error) {
	if strings.IndexByte(p, 0) >= 0 {
		return Ref{}, fmt.Errorf("modelstore: model reference %.200q: a path cannot hold a NUL byte", ref)
	}
	p = filepath.Clean(p)
	if !filepath.IsAbs(p) || p == string(filepath.Separator) {
		return Ref{}, fmt.Errorf("modelstore: model reference %.200q is not an absolute file path", ref)
	}
	return Ref{Path: p, Ext: ext(filepath.Base(p))}, nil
}

// maxExt bounds extensions: ".tflite" is 7 bytes; anything much longer is
// not a file type.
const maxExt = 16

// ext is name's extension when it is short and plain (letters and digits),
// so that a hostile URL cannot smuggle odd bytes into a file name.
func ext(name string) string {
	e := path.Ext(name)
	if len(e) < 2 || len(e) > maxExt || e == name {
		return ""
	}
	for _, c := range e[1:] {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return ""
		}
	}
	return e
}
