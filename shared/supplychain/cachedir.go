package supplychain

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/promotion-gate/promotion-gate/shared/cachedir"
)

// A cache directory lets processes that each check one thing share their successes:
// the Argo CD sidecar runs one process per render, so without it every render would
// verify every image at the registry again. Each entry is a file named by the cache key
// holding the Unix second it stops counting. Only the component that owns the directory
// may write it: whoever can add a file there can make a check pass, so the directory must
// be private (mode 0700, owned by this user) and should be a volume of its own.

// maxDirEntries bounds the files kept; past it, expired ones are removed, then all.
const maxDirEntries = 10_000

// NewDirCache returns a cache that also keeps its entries in dir, creating it (mode
// 0700) when missing. It refuses a directory that others can write or that another
// user owns.
func NewDirCache(dir string, ttl time.Duration) (*Cache, error) {
	if err := cachedir.Open(dir, "verification cache"); err != nil {
		return nil, err
	}
	c := NewCache(ttl)
	c.dir = dir
	c.sweep(time.Now())
	return c, nil
}

// loadFile reads an entry from the directory into memory; false when there is none or
// it has expired (the file is removed then).
func (c *Cache) loadFile(key string, now time.Time) (time.Time, bool) {
	p := filepath.Join(c.dir, key)
	data, err := os.ReadFile(p)
	if err != nil {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		_ = os.Remove(p) // not an entry this cache wrote: it counts for nothing
		return time.Time{}, false
	}
	until := time.Unix(sec, 0)
	if !now.Before(until) {
		_ = os.Remove(p)
		return time.Time{}, false
	}
	return until, true
}

// storeFile writes an entry atomically, so a reader never sees half of one. A failure
// only costs a later process a registry check, so it is not reported.
func (c *Cache) storeFile(key string, until time.Time) {
	_ = cachedir.WriteAtomic(c.dir, key, []byte(strconv.FormatInt(until.Unix(), 10)))
}

// sweep removes expired entries, and every entry when there are too many.
func (c *Cache) sweep(now time.Time) {
	entries, err := os.ReadDir(c.dir)
	if err != nil || len(entries) == 0 {
		return
	}
	for _, e := range entries {
		if len(entries) > maxDirEntries {
			_ = os.Remove(filepath.Join(c.dir, e.Name()))
			continue
		}
		if strings.HasPrefix(e.Name(), ".entry-") {
			continue // another process may be writing it
		}
		c.loadFile(e.Name(), now)
	}
}
