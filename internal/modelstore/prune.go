package modelstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Prune deletes the models in Dir that are not in keep (paths as Fetch
// returned them; paths outside Dir are ignored) and stale temporary files
// of fetches that crashed. It deletes only regular files directly in Dir
// named as the store names them (<sha256><ext>, or a temporary name), so
// nothing else, in Dir or outside it, is ever touched. Models being
// fetched are left alone. A missing Dir has nothing to prune.
func (s *Store) Prune(keep []string) error {
	if s.Dir == "" {
		return errors.New("modelstore: prune: the store has no directory")
	}
	dir, err := filepath.Abs(s.Dir)
	if err != nil {
		return fmt.Errorf("modelstore: prune %s: %w", s.Dir, err)
	}
	kept := map[string]bool{}
	for _, k := range keep {
		abs, err := filepath.Abs(k)
		if err == nil && filepath.Dir(abs) == dir {
			kept[filepath.Base(abs)] = true
		}
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("modelstore: prune %s: %w", dir, err)
	}
	// A temporary file younger than a fetch may take can still be written
	// to, by another process sharing Dir.
	staleBefore := time.Now().Add(-s.timeout())
	var errs []error
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || kept[name] {
			continue
		}
		hash, temp, ok := parseName(name)
		if !ok || busy(dir, hash) {
			continue
		}
		if temp {
			fi, err := e.Info()
			if err != nil || fi.ModTime().After(staleBefore) {
				continue
			}
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("modelstore: prune %s: %w", dir, err)
	}
	return nil
}

// parseName reports whether name is one the store makes: a model
// (<sha256><ext>) or a temporary file (.fetch-<sha256>-<random>), and
// the hash it is for.
func parseName(name string) (hash string, temp, ok bool) {
	if rest, found := strings.CutPrefix(name, tmpPrefix); found {
		if len(rest) > 64 && rest[64] == '-' && isHash(rest[:64]) {
			return rest[:64], true, true
		}
		return "", false, false
	}
	if len(name) < 64 || !isHash(name[:64]) {
		return "", false, false
	}
	if e := name[64:]; e != "" && ext("x"+e) != e {
		return "", false, false
	}
	return name[:64], false, true
}
