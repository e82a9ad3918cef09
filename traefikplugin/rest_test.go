package traefikplugin

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/tokencore"
)

func TestRESTDefaultsMatchCore(t *testing.T) {
	config := CreateConfig()
	durations := []struct {
		option string
		value  string
		core   time.Duration
	}{
		{"dailyApiTimeout", config.DailyAPITimeout, tokencore.DefaultRESTTimeout},
		{"dailyApiCacheTtl", config.DailyAPICacheTTL, tokencore.DefaultIntrospectionCacheTTL},
		{"dailyApiNegativeCacheTtl", config.DailyAPINegativeCacheTTL, tokencore.DefaultNegativeCacheTTL},
		{"dailyApiMaxBackoff", config.DailyAPIMaxBackoff, tokencore.DefaultRESTMaxBackoff},
	}
	for _, d := range durations {
		parsed, err := time.ParseDuration(d.value)
		if err != nil || parsed != d.core {
			t.Errorf("default %s %q = %s, expected the core's %s", d.option, d.value, parsed, d.core)
		}
	}
	if config.DailyAPIBaseURL != tokencore.DefaultRESTBaseURL {
		t.Errorf("default dailyApiBaseUrl = %q, expected %q", config.DailyAPIBaseURL, tokencore.DefaultRESTBaseURL)
	}
	if config.DailyAPI {
		t.Error("default dailyApi = true, expected false")
	}
}

func TestCheckBaseURL(t *testing.T) {
	accepted := []string{
		"https://api.daily.co/v1",
		"http://127.0.0.1:8080/v1",
		"http://[::1]:8080/v1",
		"http://localhost/v1",
	}
	for _, raw := range accepted {
		if err := checkBaseURL(raw); err != nil {
			t.Errorf("checkBaseURL(%q) = %v, expected no error", raw, err)
		}
	}
	rejected := []string{
		"http://api.daily.co/v1",
		"http://10.0.0.1/v1",
		"ftp://127.0.0.1/v1",
		"api.daily.co/v1",
		"https:///v1",
	}
	for _, raw := range rejected {
		if err := checkBaseURL(raw); err == nil {
			t.Errorf("checkBaseURL(%q) = nil, expected an error", raw)
		}
	}
}

// TestFailureLogLimitsRepeats prints one failure, suppresses its repeats
// within the interval, prints a different failure, and reports the count
// once the interval has passed.
func TestFailureLogLimitsRepeats(t *testing.T) {
	const key = "failure-log-key"
	const token = "aaaa.bbbb.cccc"
	now := time.Unix(1700000000, 0)
	log := newFailureLog("log@file", [][]byte{[]byte(key)})
	log.now = func() time.Time { return now }

	down := &tokencore.RESTError{Err: tokencore.ErrUnavailable, Endpoint: tokencore.EndpointIntrospect}
	rejected := &tokencore.RESTError{Err: tokencore.ErrUnavailable, Endpoint: tokencore.EndpointIntrospect, StatusCode: 401}

	line, ok := log.formatLine(503, down, token)
	if !ok || !strings.Contains(line, "log@file") || !strings.Contains(line, "503 api_unavailable") {
		t.Errorf("first failure: line %q, %v; expected a line with the name, status and reason", line, ok)
	}
	if !strings.Contains(line, "(token "+tokencore.Fingerprint(token)+")") {
		t.Errorf("first failure: line %q, expected the token's fingerprint", line)
	}

	for i := 0; i < 3; i++ {
		now = now.Add(time.Second)
		if line, ok := log.formatLine(503, down, token); ok {
			t.Errorf("repeat %d within the interval: printed %q, expected nothing", i+1, line)
		}
	}
	if _, ok := log.formatLine(503, rejected, ""); !ok {
		t.Error("failure of another kind within the interval: nothing printed, expected a line")
	}

	now = now.Add(failureLogInterval)
	line, ok = log.formatLine(503, down, token)
	if !ok || !strings.Contains(line, "3 more since the previous line") {
		t.Errorf("after the interval: line %q, %v; expected the count of 3 repeats", line, ok)
	}
}

func TestFailureLogRemovesSecrets(t *testing.T) {
	const key = "failure-log-key"
	const token = "aaaa.bbbb.cccc"
	log := newFailureLog("log@file", [][]byte{[]byte("first-key"), []byte(key)})

	line, ok := log.formatLine(500, errors.New("upstream quoted "+token+" and "+key), token)
	if !ok {
		t.Fatal("nothing printed, expected a line")
	}
	if strings.Contains(line, token) || strings.Contains(line, key) {
		t.Errorf("line %q contains the token or a key", line)
	}
	if !strings.Contains(line, "500 server_error") {
		t.Errorf("line %q, expected status 500 and reason server_error", line)
	}
}
