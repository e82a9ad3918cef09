package caddymodule

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/internal/casetable"
	"github.com/dailytoken/dailytoken/internal/dailymock"
)

// Size of a load run: bounded in requests, and in time by loadTimeout,
// which only ends a run that hangs. No assertion depends on speed.
const (
	loadRequests = 2000
	loadWorkers  = 16
	loadPool     = 25
	loadTimeout  = 2 * time.Minute
)

// loadConfig returns a JSON config with one route: handler in front of a
// reverse proxy to upstreamAddr, and errorBody for rejected requests.
func loadConfig(t *testing.T, handler map[string]any, upstreamAddr string) string {
	t.Helper()
	config := map[string]any{
		"admin": map[string]any{"listen": fmt.Sprintf("localhost:%d", adminPort), "config": map[string]any{"persist": false}},
		"apps": map[string]any{"http": map[string]any{"servers": map[string]any{"srv0": map[string]any{
			"listen":          []string{fmt.Sprintf("127.0.0.1:%d", sitePort)},
			"automatic_https": map[string]any{"disable": true},
			"routes": []any{map[string]any{"handle": []any{
				handler,
				map[string]any{"handler": "reverse_proxy", "upstreams": []any{map[string]any{"dial": upstreamAddr}}},
			}}},
			"errors": map[string]any{"routes": []any{map[string]any{"handle": []any{
				map[string]any{"handler": "daily_token_test_error_body"},
			}}}},
		}}}},
	}
	data, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// loadClient returns a client that keeps a connection per worker.
func loadClient() (*http.Client, *http.Transport) {
	transport := &http.Transport{MaxIdleConnsPerHost: loadWorkers, MaxConnsPerHost: loadWorkers}
	return &http.Client{Transport: transport, Timeout: 30 * time.Second}, transport
}

// checkSettled fails the test if the resources after a run did not come back
// near base.
func checkSettled(t *testing.T, base casetable.Resources) {
	t.Helper()
	after, problems := casetable.CheckSettled(base)
	t.Logf("goroutines %d before, %d after; heap in use %d KB before, %d KB after", base.Goroutines, after.Goroutines, base.Heap>>10, after.Heap>>10)
	for _, problem := range problems {
		t.Error(problem)
	}
}

// checkLoadLogs fails the test if the logs of a run report a panic or contain
// a segment of a token of the plan.
func checkLoadLogs(t *testing.T, logs capturedLogs, plan []casetable.LoadRequest) {
	t.Helper()
	loadCaddyfile(t, fmt.Sprintf("http://:%d {\n\trespond \"done\"\n}\n", sitePort))

	secrets := map[string]bool{}
	for _, request := range plan {
		if request.Token == "" {
			continue
		}
		parts := strings.Split(request.Token, ".")
		secrets[parts[1]] = true
		secrets[parts[2]] = true
	}
	for what, path := range map[string]string{"handler log": logs.module, "Caddy log": logs.caddy} {
		lines := readLogLines(t, path)
		leaks, panics := 0, 0
		for _, line := range lines {
			var entry logEntry
			if json.Unmarshal([]byte(line), &entry) == nil && entry.reportsPanic() {
				panics++
			}
			for _, word := range strings.FieldsFunc(line, isNotBase64URL) {
				if secrets[word] {
					leaks++
				}
			}
		}
		t.Logf("%s: %d lines", what, len(lines))
		if panics > 0 {
			t.Errorf("%s reports %d panics", what, panics)
		}
		if leaks > 0 {
			t.Errorf("%s contains %d payload or signature segments of the run's tokens", what, leaks)
		}
	}
}

func isNotBase64URL(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
}

// TestLoadMixedTokens sends 2000 requests over 16 connections with valid,
// expired, tampered, foreign-key, wrong-room and missing tokens through a
// real Caddy. It checks every decision, that the upstream got exactly the
// valid requests with their own claims, and that goroutines and heap come
// back near their baseline.
func TestLoadMixedTokens(t *testing.T) {
	upstream := &casetable.LoadUpstream{}
	upstreamServer := httptest.NewServer(upstream)
	defer upstreamServer.Close()
	logs := newCapturedLogs(t)
	handler := map[string]any{"handler": "daily_token", "keys": []string{casetable.Key}, "room": "{path.1}"}
	loadJSON(t, withLogging(t, loadConfig(t, handler, strings.TrimPrefix(upstreamServer.URL, "http://")), logs, true))

	client, transport := loadClient()
	ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
	defer cancel()
	now := time.Now()
	warmPlan := casetable.LoadPlan(2*loadWorkers, loadPool, casetable.Key, now)
	warmResults := casetable.RunLoad(ctx, client, siteURL, warmPlan, loadWorkers)
	transport.CloseIdleConnections()
	base := casetable.Baseline()

	plan := casetable.LoadPlan(loadRequests, loadPool, casetable.Key, now)
	results := casetable.RunLoad(ctx, client, siteURL, plan, loadWorkers)
	for _, problem := range casetable.CheckLoadLocal(append(warmPlan, plan...), append(warmResults, results...), upstream) {
		t.Error(problem)
	}

	transport.CloseIdleConnections()
	checkSettled(t, base)
	checkLoadLogs(t, logs, plan)
}

// restPool is the number of distinct tokens per kind in a run against the
// REST API. Each new token costs a call, so the run goes through the fault
// schedule several times.
const restPool = 100

// restFaults is the schedule of the mock API's faults in a load run, by
// the number of calls.
var restFaults = []casetable.FaultPhase[dailymock.Fault]{
	{Fault: dailymock.NoFault, Calls: 5},
	{Fault: dailymock.ServerError, Calls: 5},
	{Fault: dailymock.NoFault, Calls: 5},
	{Fault: dailymock.Stall, Calls: 5},
	{Fault: dailymock.NoFault, Calls: 5},
	{Fault: dailymock.RateLimit, Calls: 1},
}

// restScheduleCalls is the number of calls in one round of restFaults.
const restScheduleCalls = 26

// TestLoadDailyAPIFaults sends the same mix through a route that checks
// tokens with a mock of Daily's REST API, which fails part of the time:
// server errors, stalls past the call timeout, and rate limiting, switched
// every few calls. Every response must be fail-closed: 200 only for a valid
// token the API accepted, 401, 403 or 503 otherwise, never 500.
func TestLoadDailyAPIFaults(t *testing.T) {
	mock := dailymock.New(t, "load-test-rest-key-0123456789")
	api, err := casetable.NewAPIRecorder(mock.URL, func(h http.Handler) string {
		server := httptest.NewServer(h)
		t.Cleanup(server.Close)
		return server.URL
	})
	if err != nil {
		t.Fatal(err)
	}
	defer mock.Release()

	upstream := &casetable.LoadUpstream{}
	upstreamServer := httptest.NewServer(upstream)
	defer upstreamServer.Close()
	logs := newCapturedLogs(t)
	handler := map[string]any{
		"handler": "daily_token",
		"keys":    []string{mock.Key},
		"room":    "{path.1}",
		"daily_api": map[string]any{
			"base_url":    api.URL,
			"timeout":     "100ms",
			"max_backoff": "1s",
		},
	}
	loadJSON(t, withLogging(t, loadConfig(t, handler, strings.TrimPrefix(upstreamServer.URL, "http://")), logs, true))

	client, transport := loadClient()
	ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
	defer cancel()
	now := time.Now()
	warmPlan := casetable.LoadPlan(2*loadWorkers, restPool, mock.Key, now)
	warmResults := casetable.RunLoad(ctx, client, siteURL, warmPlan, loadWorkers)
	transport.CloseIdleConnections()
	base := casetable.Baseline()

	// The schedule starts with the run's first call. A 429 pauses every
	// call for at least 1 s, the unit of Retry-After, so rate limiting comes
	// last: the rest of the run meets the back-off.
	start := api.Calls()
	api.SetBeforeCall(func(call int) {
		mock.SetFault(casetable.FaultAt(restFaults, call-start))
	})
	plan := casetable.LoadPlan(loadRequests, restPool, mock.Key, now)
	results := casetable.RunLoad(ctx, client, siteURL, plan, loadWorkers)
	api.SetBeforeCall(nil)
	mock.Release()
	mock.SetFault(dailymock.NoFault)

	for _, problem := range casetable.CheckLoadREST(append(warmPlan, plan...), append(warmResults, results...), upstream, api) {
		t.Error(problem)
	}
	statuses := map[int]int{}
	for _, result := range results {
		statuses[result.Status]++
	}
	t.Logf("statuses %v after %d calls to the API in the run", statuses, api.Calls()-start)
	if statuses[http.StatusOK] == 0 || statuses[http.StatusServiceUnavailable] == 0 {
		t.Errorf("statuses %v, expected both 200 and 503: the run did not meet both a working and a failing API", statuses)
	}
	if calls := api.Calls() - start; calls < restScheduleCalls {
		t.Errorf("the API got %d calls in the run, expected at least %d to go through every fault of the schedule", calls, restScheduleCalls)
	}

	transport.CloseIdleConnections()
	checkSettled(t, base)
	checkLoadLogs(t, logs, plan)
}
