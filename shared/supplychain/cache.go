package supplychain

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"
)

// DefaultCacheTTL is how long a success is remembered when NewCache is given no TTL.
const DefaultCacheTTL = 10 * time.Minute

// maxCacheEntries bounds the cache; past it, expired entries go first, then all.
const maxCacheEntries = 100_000

// Cache remembers successful checks by image digest, never by tag, so that the same
// digest under the same policy is not verified at the registry again. It holds only
// successes: a violation or an error is checked afresh every time. A nil *Cache
// remembers nothing. It is safe for concurrent use.
type Cache struct {
	ttl time.Duration
	// dir, when set, also keeps the entries in files (see NewDirCache).
	dir string
	mu  sync.Mutex
	// until is when each entry stops counting.
	until map[string]time.Time
}

// NewCache returns a cache whose entries live ttl (DefaultCacheTTL when ttl <= 0), or
// less when a vulnerability scan's maxAge runs out sooner.
func NewCache(ttl time.Duration) *Cache {
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	return &Cache{ttl: ttl, until: map[string]time.Time{}}
}

// Len is the number of entries held, expired ones included until they are swept.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.until)
}

func (c *Cache) valid(key string, now time.Time) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	until, ok := c.until[key]
	if !ok && c.dir != "" {
		if until, ok = c.loadFile(key, now); ok {
			c.until[key] = until
		}
	}
	if ok && !now.Before(until) {
		delete(c.until, key)
		return false
	}
	return ok
}

// add remembers a success from now for the cache's TTL, or for limit when that is
// positive and shorter.
func (c *Cache) add(key string, now time.Time, limit time.Duration) {
	if c == nil {
		return
	}
	ttl := c.ttl
	if limit > 0 && limit < ttl {
		ttl = limit
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.until) >= maxCacheEntries {
		for k, u := range c.until {
			if !now.Before(u) {
				delete(c.until, k)
			}
		}
		if len(c.until) >= maxCacheEntries {
			clear(c.until)
		}
	}
	c.until[key] = now.Add(ttl)
	if c.dir != "" {
		c.storeFile(key, c.until[key])
	}
}

// cacheKey identifies one clause of one rule for one digest under one policy revision:
// the clause's own text and the resolved trust material are part of it, so an edited
// clause or a rotated key is checked afresh even if the revision were reused.
func cacheKey(digest, revision, rule, clause string, spec any, auths []*authority) string {
	h := sha256.New()
	for _, s := range []string{digest, revision, rule, clause} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if data, err := json.Marshal(spec); err == nil {
		h.Write(data)
	}
	for _, a := range auths {
		h.Write(a.fingerprint[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}
