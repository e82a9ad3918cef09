package caddymodule

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/internal/dailymock"
)

// TestDailyAPIConcurrentRequestsOneCall sends 100 requests with one new
// token at once: Daily's API must be asked once, and every request pass.
func TestDailyAPIConcurrentRequestsOneCall(t *testing.T) {
	mock := dailymock.New(t, testKey)
	up := newUpstream(t)
	loadCaddyfile(t, dailyAPISite(mock, up))
	token := mockToken(mock, "hello")

	var wg sync.WaitGroup
	statuses := make([]int, 100)
	for i := range statuses {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			statuses[i] = get(t, "/rooms/hello/", bearer(token)).status
		}(i)
	}
	wg.Wait()

	for i, status := range statuses {
		if status != http.StatusOK {
			t.Errorf("request %d: status = %d, expected 200", i, status)
		}
	}
	if count := mock.Count(dailymock.EndpointIntrospect); count != 1 {
		t.Errorf("introspection calls = %d, expected 1 for 100 concurrent requests with one token", count)
	}
}

// TestDailyAPICacheEntryExpires checks that a token is asked about again
// once its cache entry is older than cache_ttl.
func TestDailyAPICacheEntryExpires(t *testing.T) {
	mock := dailymock.New(t, testKey)
	up := newUpstream(t)
	loadCaddyfile(t, fmt.Sprintf(`http://:%d {
	daily_token {
		keys %s
		daily_api %s {
			cache_ttl 200ms
		}
	}
	reverse_proxy %s
}
`, sitePort, testKey, mock.URL, up.addr()))
	token := mockToken(mock, "hello")

	for i := 1; i <= 2; i++ {
		if status := get(t, "/", bearer(token)).status; status != http.StatusOK {
			t.Fatalf("request %d: status = %d, expected 200", i, status)
		}
	}
	if count := mock.Count(dailymock.EndpointIntrospect); count != 1 {
		t.Fatalf("introspection calls = %d, expected 1 while the entry is cached", count)
	}

	time.Sleep(300 * time.Millisecond)
	if status := get(t, "/", bearer(token)).status; status != http.StatusOK {
		t.Fatalf("after cache_ttl: status = %d, expected 200", status)
	}
	if count := mock.Count(dailymock.EndpointIntrospect); count != 2 {
		t.Errorf("introspection calls = %d, expected 2 after the entry expired", count)
	}
}
