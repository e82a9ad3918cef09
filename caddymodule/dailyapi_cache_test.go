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

	// The goroutines report errors instead of calling t.Fatal, which only
	// the test's own goroutine may call.
	var wg sync.WaitGroup
	statuses := make([]int, 100)
	errs := make([]error, 100)
	for i := range statuses {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			req, err := http.NewRequest(http.MethodGet, siteURL+"/rooms/hello/", nil)
			if err != nil {
				errs[i] = err
				return
			}
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}

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
