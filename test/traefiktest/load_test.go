package traefiktest

import (
	"context"
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
	restPool     = 100 // distinct tokens per kind against the REST API: each costs a call
	loadTimeout  = 2 * time.Minute
)

// restFaults is the schedule of the mock API's faults in a load run, by the
// number of calls since the run started. A 429 pauses every call for at
// least 1 s, the unit of Retry-After, so rate limiting comes last: the rest
// of the run meets the back-off.
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

// loadRun is an interpreted middleware behind an HTTP server, with the
// client of a load run.
type loadRun struct {
	recorder  stdoutTB
	upstream  *casetable.LoadUpstream
	server    *httptest.Server
	client    *http.Client
	transport *http.Transport
}

// startLoadRun loads the plugin, builds one middleware from options and
// serves it.
func startLoadRun(t *testing.T, options map[string]any) *loadRun {
	run := &loadRun{recorder: newStdoutTB(t), upstream: &casetable.LoadUpstream{}}
	plugin := loadPlugin(run.recorder)
	handler, err := plugin.NewMiddleware(context.Background(), options, run.upstream, "load@file")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	run.server = serve(t, handler)
	run.transport = &http.Transport{MaxIdleConnsPerHost: loadWorkers, MaxConnsPerHost: loadWorkers}
	run.client = &http.Client{Transport: run.transport, Timeout: 30 * time.Second}
	return run
}

// checkOutput fails the test if the plugin printed a segment of a token of
// plan, or a panic.
func (run *loadRun) checkOutput(t *testing.T, plan []casetable.LoadRequest) {
	t.Helper()
	output := run.recorder.output()
	for _, request := range plan {
		if request.Token == "" {
			continue
		}
		parts := strings.Split(request.Token, ".")
		if strings.Contains(output, parts[1]) || strings.Contains(output, parts[2]) {
			t.Errorf("plugin output contains a payload or signature segment of a %s token", request.Kind)
			return
		}
	}
	if strings.Contains(strings.ToLower(output), "panic") {
		t.Errorf("plugin output mentions a panic: %.2000s", output)
	}
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

// TestPluginLoadMixedTokens sends 2000 requests over 16 connections with
// valid, expired, tampered, foreign-key, wrong-room and missing tokens
// through the plugin under Yaegi. It checks every decision, that the
// upstream got exactly the valid requests with their own claims, and that
// goroutines and heap come back near their baseline.
func TestPluginLoadMixedTokens(t *testing.T) {
	run := startLoadRun(t, map[string]any{"mode": "validate", "keys": casetable.Key, "room": "{path.1}"})
	ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
	defer cancel()

	now := time.Now()
	warmPlan := casetable.LoadPlan(2*loadWorkers, loadPool, casetable.Key, now)
	warmResults := casetable.RunLoad(ctx, run.client, run.server.URL, warmPlan, loadWorkers)
	run.transport.CloseIdleConnections()
	base := casetable.Baseline()

	plan := casetable.LoadPlan(loadRequests, loadPool, casetable.Key, now)
	results := casetable.RunLoad(ctx, run.client, run.server.URL, plan, loadWorkers)
	for _, problem := range casetable.CheckLoadLocal(append(warmPlan, plan...), append(warmResults, results...), run.upstream) {
		t.Error(problem)
	}

	run.transport.CloseIdleConnections()
	checkSettled(t, base)
	run.checkOutput(t, plan)
}

// TestPluginLoadDailyAPIFaults sends the same mix through the plugin under
// Yaegi in REST API mode, against a mock of Daily's API that fails part of
// the time: server errors, stalls past the call timeout, and rate limiting,
// switched by the number of calls. Every response must be fail-closed: 200
// only for a valid token the API accepted, 401, 403 or 503 otherwise, never
// 500.
func TestPluginLoadDailyAPIFaults(t *testing.T) {
	mock := dailymock.New(t, "load-test-rest-key-0123456789")
	api, err := casetable.NewAPIRecorder(mock.URL, func(h http.Handler) string {
		return serve(t, h).URL
	})
	if err != nil {
		t.Fatal(err)
	}
	defer mock.Release()

	run := startLoadRun(t, map[string]any{
		"mode":               "validate",
		"keys":               mock.Key,
		"room":               "{path.1}",
		"dailyApi":           true,
		"dailyApiBaseUrl":    api.URL,
		"dailyApiTimeout":    "100ms",
		"dailyApiMaxBackoff": "1s",
	})
	ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
	defer cancel()

	now := time.Now()
	warmPlan := casetable.LoadPlan(2*loadWorkers, restPool, mock.Key, now)
	warmResults := casetable.RunLoad(ctx, run.client, run.server.URL, warmPlan, loadWorkers)
	run.transport.CloseIdleConnections()
	base := casetable.Baseline()

	start := api.Calls()
	api.SetBeforeCall(func(call int) {
		mock.SetFault(casetable.FaultAt(restFaults, call-start))
	})
	plan := casetable.LoadPlan(loadRequests, restPool, mock.Key, now)
	results := casetable.RunLoad(ctx, run.client, run.server.URL, plan, loadWorkers)
	api.SetBeforeCall(nil)
	mock.Release()
	mock.SetFault(dailymock.NoFault)

	for _, problem := range casetable.CheckLoadREST(append(warmPlan, plan...), append(warmResults, results...), run.upstream, api) {
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

	run.transport.CloseIdleConnections()
	checkSettled(t, base)
	run.checkOutput(t, plan)

	// The check of the output means something only if the plugin printed:
	// it prints server failures, with the token's fingerprint.
	mustContain(t, "plugin output", run.recorder.output(), "request rejected with 503", "(token ")
}
