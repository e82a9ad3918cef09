package caddymodule

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dailytoken/dailytoken/internal/casetable"
)

// moduleLogger is the name of the handler's zap logger.
const moduleLogger = "http.handlers.daily_token"

// capturedLogs are two log files of the test server: the handler's own log
// at DEBUG, and every other log of Caddy at DEBUG, access log included.
type capturedLogs struct {
	module, caddy string
}

func newCapturedLogs(t *testing.T) capturedLogs {
	dir := t.TempDir()
	return capturedLogs{module: filepath.Join(dir, "module.log"), caddy: filepath.Join(dir, "caddy.log")}
}

// withLogging adds the logging of logs to a JSON config from caseConfig, and
// turns on the site's access log.
//
// The handler's log is written as it is. Caddy's own logs record the request
// at DEBUG (http.log.error, reverse_proxy) and in the access log, with its
// URI and headers. Caddy redacts Authorization and Cookie there by default,
// but not a query parameter or another header. With filtered set, the test
// configures the filter that the security documentation recommends for a
// route that accepts tokens in a query or a custom header.
func withLogging(t *testing.T, config string, logs capturedLogs, filtered bool) string {
	t.Helper()
	var parsed map[string]any
	if err := json.Unmarshal([]byte(config), &parsed); err != nil {
		t.Fatal(err)
	}

	redact := map[string]any{
		"request>uri":                     map[string]any{"filter": "query", "actions": []any{map[string]any{"type": "delete", "parameter": "t"}}},
		"request>headers>X-Meeting-Token": map[string]any{"filter": "delete"},
	}
	encoder := map[string]any{"format": "json"}
	if filtered {
		encoder = map[string]any{"format": "filter", "wrap": map[string]any{"format": "json"}, "fields": redact}
	}
	parsed["logging"] = map[string]any{"logs": map[string]any{
		"default": map[string]any{
			"writer":  map[string]any{"output": "file", "filename": logs.caddy},
			"encoder": encoder,
			"level":   "DEBUG",
			"exclude": []any{moduleLogger},
		},
		"module": map[string]any{
			"writer":  map[string]any{"output": "file", "filename": logs.module},
			"encoder": map[string]any{"format": "json"},
			"level":   "DEBUG",
			"include": []any{moduleLogger},
		},
	}}
	server := parsed["apps"].(map[string]any)["http"].(map[string]any)["servers"].(map[string]any)["srv0"].(map[string]any)
	server["logs"] = map[string]any{}

	data, err := json.Marshal(parsed)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// caseSecrets are the secrets of one case, for the report of a leak.
type caseSecrets struct {
	name    string
	secrets []string
}

// TestSharedCasesLogNoSecrets runs every shared case through a real Caddy
// that logs at DEBUG to files, and checks that no log line contains a key, a
// token or a signature of any case, and that none reports a panic.
func TestSharedCasesLogNoSecrets(t *testing.T) {
	up := newUpstream(t)
	logs := newCapturedLogs(t)
	var all []caseSecrets

	loaded := ""
	for _, c := range casetable.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			config := withLogging(t, caseConfig(t, c.Config, up), logs, true)
			if config != loaded {
				loadJSON(t, config)
				loaded = config
			}
			request := c.Request(time.Now())
			minted, _ := c.Check(request, sendCase(t, request, up))
			all = append(all, caseSecrets{name: c.Name, secrets: c.Secrets(request, minted)})
		})
	}

	// Loading a config without logging closes the files and flushes every
	// line written for the last request.
	loadCaddyfile(t, fmt.Sprintf("http://:%d {\n\trespond \"done\"\n}\n", sitePort))

	moduleLines := readLogLines(t, logs.module)
	caddyLines := readLogLines(t, logs.caddy)
	checkLogLines(t, "handler log", moduleLines, all)
	checkLogLines(t, "Caddy log", caddyLines, all)

	// The capture works only if both files saw the requests.
	if !containsLine(moduleLines, `"request rejected"`) {
		t.Errorf("handler log has no \"request rejected\" line in %d lines, expected the rejections at DEBUG", len(moduleLines))
	}
	if !containsLine(caddyLines, `"handled request"`) {
		t.Errorf("Caddy log has no access log line in %d lines, expected one per request", len(caddyLines))
	}
}

// readLogLines returns the lines of the log file at path.
func readLogLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the log: %v", err)
	}
	var lines []string
	scanner := bufio.NewScanner(bytes.NewReader(data))
	scanner.Buffer(make([]byte, 0, 1<<20), 4<<20)
	for scanner.Scan() {
		lines = append(lines, scanner.Text())
	}
	if err := scanner.Err(); err != nil {
		t.Fatalf("reading the log: %v", err)
	}
	return lines
}

// checkLogLines fails the test for every line that contains a secret of a
// case or whose message reports a recovered panic.
func checkLogLines(t *testing.T, what string, lines []string, cases []caseSecrets) {
	t.Helper()
	for _, line := range lines {
		var entry logEntry
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Errorf("%s line is not JSON: %.200s", what, line)
			continue
		}
		if entry.reportsPanic() {
			t.Errorf("%s reports a panic: %.500s", what, line)
		}
		for _, c := range cases {
			for _, secret := range c.secrets {
				if i := strings.Index(line, secret); i >= 0 {
					t.Errorf("%s line from %s contains a key, token or signature of case %q at byte %d: ...%s...", what, entry.Logger, c.name, i, excerpt(line, i))
				}
			}
		}
	}
}

// logEntry is the part of a JSON log line that the checks read.
type logEntry struct {
	Logger string `json:"logger"`
	Msg    string `json:"msg"`
}

// reportsPanic reports whether the entry's message mentions a panic, as the
// line of a handler panic that Go's HTTP server recovered does
// ("http: panic serving ...", logged by Caddy's http.stdlib logger).
func (e logEntry) reportsPanic() bool {
	return strings.Contains(strings.ToLower(e.Msg), "panic")
}

func containsLine(lines []string, part string) bool {
	for _, line := range lines {
		if strings.Contains(line, part) {
			return true
		}
	}
	return false
}

// excerpt returns up to 100 bytes of line before index i, where a secret
// starts, and its first 8 bytes, so the report shows which field leaked.
func excerpt(line string, i int) string {
	start := max(i-100, 0)
	end := min(i+8, len(line))
	return line[start:end]
}

func init() {
	caddy.RegisterModule(panicHandler{})
}

// panicHandler panics on every request, to show that the log check finds
// the panic that Go's HTTP server recovers and Caddy logs.
type panicHandler struct{}

// CaddyModule returns the Caddy module information.
func (panicHandler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.daily_token_test_panic",
		New: func() caddy.Module { return new(panicHandler) },
	}
}

// ServeHTTP panics.
func (panicHandler) ServeHTTP(http.ResponseWriter, *http.Request, caddyhttp.Handler) error {
	panic("test panic")
}

// TestCaddyLogKeepsQueryTokenWithoutFilter shows why the log filter is
// needed: without it, Caddy's access log and its DEBUG error log record the
// request URI with the token in the query.
func TestCaddyLogKeepsQueryTokenWithoutFilter(t *testing.T) {
	up := newUpstream(t)
	logs := newCapturedLogs(t)
	c := casetable.Case{Config: casetable.Config{Mode: "validate", Keys: []string{casetable.Key}, Room: "{path.1}"}}
	loadJSON(t, withLogging(t, caseConfig(t, c.Config, up), logs, false))

	token := casetable.Tamper(casetable.ValidToken(time.Now()))
	resp := get(t, "/rooms/standup?t="+token)
	if resp.status != http.StatusUnauthorized {
		t.Errorf("status = %d, expected 401", resp.status)
	}
	loadCaddyfile(t, fmt.Sprintf("http://:%d {\n\trespond \"done\"\n}\n", sitePort))

	lines := readLogLines(t, logs.caddy)
	for _, logger := range []string{`"logger":"http.log.access`, `"logger":"http.log.error"`} {
		found := false
		for _, line := range lines {
			found = found || (strings.Contains(line, logger) && strings.Contains(line, token))
		}
		if !found {
			t.Errorf("no %s line contains the query token, expected Caddy to log the URI unfiltered", logger)
		}
	}
	if moduleLines := readLogLines(t, logs.module); containsLine(moduleLines, token) {
		t.Error("the handler log contains the token")
	}
}

// TestLogCheckFindsPanic sends a request to a handler that panics and checks
// that the Caddy log records it in a line that reportsPanic, and so
// checkLogLines, rejects.
func TestLogCheckFindsPanic(t *testing.T) {
	up := newUpstream(t)
	logs := newCapturedLogs(t)
	c := casetable.Config{Mode: "validate", Keys: []string{casetable.Key}}
	config := withLogging(t, caseConfig(t, c, up), logs, true)
	config = strings.Replace(config, `{"handler":"reverse_proxy"`, `{"handler":"daily_token_test_panic"},{"handler":"reverse_proxy"`, 1)
	loadJSON(t, config)

	req := newRequest(t, http.MethodGet, "/", bearer(casetable.ValidToken(time.Now())))
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("status = %d, expected the connection closed by the recovered panic", resp.StatusCode)
	}
	client.CloseIdleConnections()
	loadCaddyfile(t, fmt.Sprintf("http://:%d {\n\trespond \"done\"\n}\n", sitePort))

	panicLines := 0
	for _, line := range readLogLines(t, logs.caddy) {
		var entry logEntry
		if json.Unmarshal([]byte(line), &entry) == nil && entry.reportsPanic() {
			panicLines++
		}
	}
	if panicLines == 0 {
		t.Error("Caddy log has no line that reports a panic, expected the recovered one")
	}
}

// TestSecurityDocLogFilter loads the Caddyfile example of the security
// documentation, with its access log in a file, and checks that requests
// with a token in the query and in a header leave neither in the log.
func TestSecurityDocLogFilter(t *testing.T) {
	blocks := fencedBlocks(t, "../docs/security.md", "caddyfile")
	if len(blocks) != 1 {
		t.Fatalf("found %d Caddyfile examples in the security documentation, expected 1", len(blocks))
	}
	up := newUpstream(t)
	path := filepath.Join(t.TempDir(), "access.log")
	site := strings.NewReplacer(
		"example.com {", fmt.Sprintf("http://:%d {", sitePort),
		"{env.DAILY_API_KEY}", casetable.Key,
		"127.0.0.1:3000", up.addr(),
		"    log {\n", "    log {\n        output file "+path+"\n",
	).Replace(blocks[0])
	loadCaddyfile(t, site)

	token := casetable.ValidToken(time.Now())
	other := casetable.Tamper(token)
	requests := []struct {
		path    string
		headers []string
		status  int
	}{
		{"/rooms/standup?t=" + token + "&page=2", []string{"X-Meeting-Token: " + token}, http.StatusOK},
		{"/rooms/standup?t=" + other, nil, http.StatusUnauthorized},
		{"/rooms/standup", []string{"X-Meeting-Token: " + other}, http.StatusUnauthorized},
	}
	for _, r := range requests {
		if resp := get(t, r.path, r.headers...); resp.status != r.status {
			t.Errorf("GET %.40s...: status = %d, expected %d", r.path, resp.status, r.status)
		}
	}
	loadCaddyfile(t, fmt.Sprintf("http://:%d {\n\trespond \"done\"\n}\n", sitePort))

	lines := readLogLines(t, path)
	if len(lines) != len(requests) {
		t.Errorf("access log has %d lines, expected %d", len(lines), len(requests))
	}
	for _, line := range lines {
		for _, secret := range []string{token, other, token[strings.LastIndexByte(token, '.')+1:]} {
			if i := strings.Index(line, secret); i >= 0 {
				t.Errorf("access log line contains a token or signature: ...%s...", excerpt(line, i))
			}
		}
		if !strings.Contains(line, `"uri":"/rooms/standup`) {
			t.Errorf("access log line has no filtered URI: %.300s", line)
		}
	}
}
