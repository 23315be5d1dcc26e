package history

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// DefaultStateDir is where the CLI keeps history without a bucket.
const DefaultStateDir = ".orgaudit"

// NewDirStore keeps history in dir (history/YYYY/MM/DD/<trigger>-<run id>.json.gz beneath it, as Key names it).
// lookback bounds how far back Previous looks; 0 means DefaultLookback.
func NewDirStore(dir string, lookback time.Duration) Store {
	if lookback <= 0 {
		lookback = DefaultLookback
	}
	return &store{objects: dirObjects{dir}, lookback: lookback}
}

type dirObjects struct{ dir string }

func (d dirObjects) path(key string) string { return filepath.Join(d.dir, filepath.FromSlash(key)) }

func (d dirObjects) where(key string) string { return d.path(key) }

func (d dirObjects) list(ctx context.Context, from, to time.Time) ([]string, error) {
	var keys []string
	for day := dayOf(from); !day.After(dayOf(to)); day = day.AddDate(0, 0, 1) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rel := "history/" + day.Format("2006/01/02")
		entries, err := os.ReadDir(d.path(rel))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !e.IsDir() {
				keys = append(keys, rel+"/"+e.Name())
			}
		}
	}
	return keys, nil
}

func (d dirObjects) open(_ context.Context, key string, _ bool) (io.ReadCloser, error) {
	return os.Open(d.path(key))
}

// put writes a temporary file beside the target and renames it over: a reader never sees half a state, and a
// crash leaves at worst a stray temporary file (which list skips: it does not end in .json.gz).
func (d dirObjects) put(_ context.Context, key string, body []byte) error {
	target := d.path(key)
	if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("rename into place: %w", err)
	}
	return nil
}
