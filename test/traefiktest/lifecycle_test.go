package traefiktest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/internal/casetable"
	"github.com/dailytoken/dailytoken/test/yaegiharness"
)

// routerOptions returns the options of router i: validating and minting
// middlewares with different settings, as a real configuration would have.
func routerOptions(i int) map[string]any {
	if i%2 == 0 {
		return map[string]any{
			"mode":        "validate",
			"keys":        []any{casetable.Key, fmt.Sprintf("old-key-%d", i)},
			"room":        "{path.1}",
			"maxLifetime": "2h",
			"stripToken":  true,
		}
	}
	return map[string]any{
		"mode":     "mint",
		"keys":     casetable.Key,
		"lifetime": "10m",
		"target":   "query:t",
		"claims":   map[string]any{"room_name": "{path.1}", "user_name": fmt.Sprintf("router %d", i)},
	}
}

// buildRouters builds the middlewares of 50 routers from one plugin, as
// Traefik does on each configuration reload, and sends each one request.
func buildRouters(t *testing.T, plugin *yaegiharness.Plugin, token string) {
	t.Helper()
	for i := 0; i < 50; i++ {
		handler, err := plugin.NewMiddleware(context.Background(), routerOptions(i), &recordingUpstream{}, fmt.Sprintf("router-%d@file", i))
		if err != nil {
			t.Fatalf("router %d: New: %v", i, err)
		}
		request := httptest.NewRequest(http.MethodGet, "/rooms/"+casetable.Room, nil)
		request.Header.Set("Authorization", "Bearer "+token)
		recorder := httptest.NewRecorder()
		handler.ServeHTTP(recorder, request)
		if recorder.Code != http.StatusOK {
			t.Fatalf("router %d: status = %d, expected 200; body %s", i, recorder.Code, recorder.Body)
		}
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	return stats.HeapAlloc
}

// TestReloadsLeaveNoGoroutines builds the middleware of 50 routers, 20
// times over, and checks that no goroutine outlives the middlewares and that
// dropped middlewares are freed.
func TestReloadsLeaveNoGoroutines(t *testing.T) {
	plugin := loadPlugin(t)
	token := casetable.ValidToken(time.Now())
	buildRouters(t, plugin, token)
	baseline := waitForGoroutines(0)
	heapAfterFirst := heapInUse()

	for reload := 0; reload < 20; reload++ {
		buildRouters(t, plugin, token)
	}

	if count := waitForGoroutines(baseline); count > baseline {
		t.Errorf("goroutines after 20 reloads of 50 routers = %d, expected at most the baseline %d", count, baseline)
	}
	// 20 reloads keep nothing if the old middlewares are freed. A leak of
	// every middleware would hold about 1000 of them.
	if grown := int64(heapInUse()) - int64(heapAfterFirst); grown > 4<<20 {
		t.Errorf("heap grew by %d bytes over 20 reloads, expected the old middlewares to be freed", grown)
	}
}

// allocatedPerRequest returns the bytes handler allocates per request, on
// average over requests built by build.
func allocatedPerRequest(t *testing.T, handler http.Handler, build func() *http.Request) uint64 {
	t.Helper()
	const rounds = 20
	built := make([]*http.Request, rounds)
	for i := range built {
		built[i] = build()
	}

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, request := range built {
		handler.ServeHTTP(httptest.NewRecorder(), request)
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / rounds
}

// TestOversizedTokensUnderYaegi sends Authorization headers and query
// tokens just over the size limit and far over it, and checks that both are
// rejected and that the memory per request does not grow with the size.
func TestOversizedTokensUnderYaegi(t *testing.T) {
	plugin := loadPlugin(t)
	handler, err := plugin.NewMiddleware(context.Background(), map[string]any{"mode": "validate", "keys": casetable.Key}, &recordingUpstream{}, "size@file")
	if err != nil {
		t.Fatal(err)
	}

	inHeader := func(size int) func() *http.Request {
		return func() *http.Request {
			request := httptest.NewRequest(http.MethodGet, "/", nil)
			request.Header.Set("Authorization", "Bearer "+strings.Repeat("a", size))
			return request
		}
	}
	inQuery := func(size int) func() *http.Request {
		return func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "/?t="+strings.Repeat("a", size), nil)
		}
	}
	kinds := []struct {
		name       string
		small, big func() *http.Request
	}{
		{"Authorization header", inHeader(5000), inHeader(100 << 10)},
		{"query t", inQuery(5000), inQuery(64 << 10)},
	}

	for _, kind := range kinds {
		for _, build := range []func() *http.Request{kind.small, kind.big} {
			recorder := httptest.NewRecorder()
			handler.ServeHTTP(recorder, build())
			if recorder.Code != http.StatusUnauthorized || !strings.Contains(recorder.Body.String(), "token_too_large") {
				t.Fatalf("%s: status %d, body %s; expected 401 token_too_large", kind.name, recorder.Code, recorder.Body)
			}
		}

		small := allocatedPerRequest(t, handler, kind.small)
		big := allocatedPerRequest(t, handler, kind.big)
		if big > small+16<<10 {
			t.Errorf("%s: %d bytes allocated per request for the large token and %d for the small one, expected no copy of the token", kind.name, big, small)
		}
	}
}

// TestRejectionsAllocateLittleUnderYaegi compares the memory that rejected
// requests allocate under Yaegi with that of an accepted request. A
// rejection that formats an interpreted value with a String method through
// fmt costs about three times as much.
func TestRejectionsAllocateLittleUnderYaegi(t *testing.T) {
	plugin := loadPlugin(t)
	handler, err := plugin.NewMiddleware(context.Background(), map[string]any{
		"mode":               "validate",
		"keys":               casetable.Key,
		"room":               "{path.1}",
		"requirePermissions": "canAdmin",
	}, &recordingUpstream{}, "reject@file")
	if err != nil {
		t.Fatal(err)
	}
	token := casetable.ValidToken(time.Now())
	other := casetable.Sign(casetable.Key, casetable.HS256Header, casetable.With(casetable.ValidClaims(time.Now()), map[string]any{"ud": "user-2"}))
	request := func(target, token string) func() *http.Request {
		return func() *http.Request {
			request := httptest.NewRequest(http.MethodGet, target, nil)
			if token != "" {
				request.Header.Set("Authorization", "Bearer "+token)
			}
			return request
		}
	}

	admin := casetable.Sign(casetable.Key, casetable.HS256Header, casetable.With(casetable.ValidClaims(time.Now()), map[string]any{"p": map[string]any{"ca": true}}))
	accepted := request("/rooms/standup", admin)
	recorder := httptest.NewRecorder()
	handler.ServeHTTP(recorder, accepted())
	if recorder.Code != http.StatusOK {
		t.Fatalf("accepted request: status %d, body %s; expected 200", recorder.Code, recorder.Body)
	}

	baseline := allocatedPerRequest(t, handler, accepted)
	rejections := map[string]func() *http.Request{
		"missing token":      request("/rooms/standup", ""),
		"token too large":    request("/rooms/standup?t="+strings.Repeat("a", 5000), ""),
		"different tokens":   request("/rooms/standup?t="+other, token),
		"room missing":       request("/rooms", token),
		"permission missing": request("/rooms/standup", token),
	}
	for name, build := range rejections {
		if allocated := allocatedPerRequest(t, handler, build); allocated > 2*baseline {
			t.Errorf("%s: %d bytes allocated per request, expected at most twice the %d of an accepted request", name, allocated, baseline)
		}
	}
}
