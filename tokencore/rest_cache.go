package tokencore

import (
	"container/list"
	"context"
	"crypto/sha256"
	"errors"
	"reflect"
	"time"
)

// RESTStats counts the work of an Introspector or a RESTSigner, for tests
// and metrics.
type RESTStats struct {
	// Calls is the number of requests sent to Daily's REST API, whether a
	// response arrived or not.
	Calls int64

	// Hits is the number of lookups served from the cache, for valid and
	// for rejected tokens.
	Hits int64

	// Misses is the number of lookups not served from the cache. Each one
	// either started a call or waited for one.
	Misses int64

	// Joined is the number of misses that waited for a call another request
	// had started for the same token or claims.
	Joined int64

	// RateLimited is the number of calls not sent because a back-off window
	// was open after a 429 response.
	RateLimited int64

	// Entries is the number of entries in the cache now, expired entries not
	// yet removed included.
	Entries int
}

// restEntry is a cached result of Daily's REST API.
type restEntry struct {
	key     string
	expires time.Time
	element *list.Element

	// an introspection: the claims, or the error that rejected the token
	claims  *Claims
	payload []byte
	err     error

	// a minted token, with the time claims it was minted with
	token string
	iat   time.Time
	exp   time.Time
	nbf   time.Time
}

// restCache is a map of entries bounded to max entries. An entry expires at
// its own time and is removed lazily: when a lookup finds it expired, and
// when an insertion finds it at the front of the insertion order. A full
// cache evicts the entry inserted first, which needs no bookkeeping on a
// hit. It is not safe for concurrent use: its owner locks around it.
type restCache struct {
	max     int
	entries map[string]*restEntry
	order   *list.List // of *restEntry, oldest first
}

func newRESTCache(max int) *restCache {
	return &restCache{max: max, entries: map[string]*restEntry{}, order: list.New()}
}

// get returns the unexpired entry for key, or nil.
func (c *restCache) get(key string, now time.Time) *restEntry {
	e := c.entries[key]
	if e == nil {
		return nil
	}
	if !now.Before(e.expires) {
		c.remove(e)
		return nil
	}
	return e
}

// put inserts e under e.key, replacing an entry with the same key. Entries
// that have expired at the front of the insertion order go first, then the
// oldest entries while the cache is full.
func (c *restCache) put(e *restEntry, now time.Time) {
	if c.max <= 0 {
		return
	}
	if old := c.entries[e.key]; old != nil {
		c.remove(old)
	}
	for i := 0; i < 2 && c.order.Len() > 0; i++ {
		front := c.order.Front().Value.(*restEntry)
		if now.Before(front.expires) {
			break
		}
		c.remove(front)
	}
	for c.order.Len() >= c.max {
		c.remove(c.order.Front().Value.(*restEntry))
	}
	e.element = c.order.PushBack(e)
	c.entries[e.key] = e
}

func (c *restCache) remove(e *restEntry) {
	delete(c.entries, e.key)
	c.order.Remove(e.element)
}

func (c *restCache) len() int {
	return len(c.entries)
}

// restFlight is a call to Daily's REST API in flight. Requests for the same
// token or claims wait for it instead of making a call of their own. The
// fields are written before done is closed and only read after.
type restFlight struct {
	done  chan struct{}
	entry *restEntry
	err   error
}

func newRESTFlight() *restFlight {
	return &restFlight{done: make(chan struct{})}
}

// wait blocks until the flight is done or ctx ends, whichever comes first.
// A request whose context ends stops waiting, and the call goes on for the
// others.
//
// It uses reflect.Select, not a select statement: Yaegi v0.16.1 keeps the
// channels of a select statement in one slice per statement, which every
// goroutine running it overwrites before it waits, so concurrent waits there
// could wait for each other's flights. The cases here are built per call.
func (f *restFlight) wait(ctx context.Context, endpoint string) error {
	done := reflect.ValueOf(f.done)
	ready := []reflect.SelectCase{
		{Dir: reflect.SelectRecv, Chan: done},
		{Dir: reflect.SelectDefault},
	}
	if chosen, _, _ := reflect.Select(ready); chosen == 0 {
		return nil
	}
	waiting := []reflect.SelectCase{
		{Dir: reflect.SelectRecv, Chan: done},
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
	}
	if chosen, _, _ := reflect.Select(waiting); chosen == 0 {
		return nil
	}
	return &RESTError{
		Err:      errorf(ErrUnavailable, "the request ended while waiting for Daily's REST API (%s): %v", endpoint, ctx.Err()),
		Endpoint: endpoint,
		Timeout:  errors.Is(ctx.Err(), context.DeadlineExceeded),
	}
}

// detachedCallContext returns the context for a call that several requests
// may wait for: it keeps ctx's values but not its cancellation, so the end of
// the request that started the call does not fail the others. The client's
// timeout still bounds the call.
func detachedCallContext(ctx context.Context) context.Context {
	return context.WithoutCancel(ctx)
}

// cacheKey returns the SHA-256 of s as a map key, so that the caches hold
// neither tokens nor long claim sets.
func cacheKey(s string) string {
	sum := sha256.Sum256([]byte(s))
	return string(sum[:])
}

func isRateLimited(err error) bool {
	e, ok := AsError(err)
	return ok && e.Kind() == ErrRateLimited
}
