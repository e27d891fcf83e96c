package web

import "sync"

// maxCachedPages bounds the page cache: the dashboard and a page per job.
const maxCachedPages = 256

// pageCache keeps the pages rendered from the latest snapshot in the
// current second.
type pageCache struct {
	mu    sync.Mutex
	pages map[pageKey]cachedPage
}

type pageKey struct {
	path   string
	id     string // the query's (jobPath)
	seq    uint64 // the snapshot's
	second int64  // Unix time
}

type cachedPage struct {
	status int
	body   []byte
}

func (c *pageCache) get(k pageKey) (cachedPage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.pages[k]
	return p, ok
}

// put keeps p, dropping the pages of other snapshots and seconds.
func (c *pageCache) put(k pageKey, p cachedPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for old := range c.pages {
		if old.seq != k.seq || old.second != k.second {
			delete(c.pages, old)
		}
	}
	if c.pages == nil || len(c.pages) >= maxCachedPages {
		c.pages = map[pageKey]cachedPage{}
	}
	c.pages[k] = p
}
