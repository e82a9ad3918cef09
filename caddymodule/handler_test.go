package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dailytoken/dailytoken/internal/casetable"
	"github.com/dailytoken/dailytoken/tokencore"
)

// provision provisions h with a context outside any loaded config.
func provision(t testing.TB, h *Handler) error {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	return h.Provision(ctx)
}

func TestProvisionRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name     string
		handler  Handler
		expected string
	}{
		{"no keys", Handler{}, "keys: at least one key is required"},
		{"unknown mode", Handler{Mode: "issue", Keys: []string{"k"}}, `mode: "issue" is not validate or mint`},
		{"mint options when validating", Handler{Keys: []string{"k"}, MinterOptions: MinterOptions{Target: "response", NotBefore: true}},
			"mode validate does not use not_before, target"},
		{"validate options when minting", Handler{Mode: ModeMint, Keys: []string{"k"}, ValidatorOptions: ValidatorOptions{Room: "a", StripToken: true}},
			"mode mint does not use room, strip_token"},
		{"negative leeway", Handler{Keys: []string{"k"}, ValidatorOptions: ValidatorOptions{Leeway: durationPointer(-1)}}, "leeway: -1ns is negative"},
		{"negative lifetime", Handler{Mode: ModeMint, Keys: []string{"k"}, MinterOptions: MinterOptions{Lifetime: -1}}, "lifetime: -1ns is negative"},
		{"unknown permission", Handler{Keys: []string{"k"}, ValidatorOptions: ValidatorOptions{RequirePermissions: []string{"hasPresence", "canFly"}}},
			`require_permissions[1]: permission "canFly"`},
		{"unknown source", Handler{Keys: []string{"k"}, ValidatorOptions: ValidatorOptions{Sources: []string{"form:t"}}}, `token source "form:t"`},
		{"bad header prefix", Handler{Keys: []string{"k"}, ValidatorOptions: ValidatorOptions{HeaderPrefix: "X Daily"}}, `claim header prefix "X Daily"`},
		{"unknown claim", Handler{Mode: ModeMint, Keys: []string{"k"}, MinterOptions: MinterOptions{Claims: map[string]any{"room": "a"}}},
			`claim "room" is not a Daily meeting token property`},
		{"bad fixed claim", Handler{Mode: ModeMint, Keys: []string{"k"}, MinterOptions: MinterOptions{Claims: map[string]any{"lang": "xx"}}},
			`lang "xx" is not one of Daily's languages`},
		{"bad target", Handler{Mode: ModeMint, Keys: []string{"k"}, MinterOptions: MinterOptions{Target: "body"}}, `target "body"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handler := tt.handler
			err := provision(t, &handler)
			if err == nil {
				t.Fatalf("provisioning succeeded, expected an error containing %q", tt.expected)
			}
			if !strings.Contains(err.Error(), tt.expected) {
				t.Errorf("error = %q, expected it to contain %q", err, tt.expected)
			}
		})
	}
}

func durationPointer(d caddy.Duration) *caddy.Duration {
	return &d
}

func TestResolveKeysFromPlaceholders(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "daily_key"), []byte("key-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	t.Setenv("DAILY_TEST_KEY", "key-from-env")

	keys, err := resolveKeys([]string{
		"{env.DAILY_TEST_KEY}",
		"{file." + filepath.Join(dir, "daily_key") + "}",
		"{http.request.uri.path.file.daily_key}", // {file.daily_key} after the Caddyfile adapter
		"prefix-{env.DAILY_TEST_KEY}",
		"literal",
	})
	if err != nil {
		t.Fatal(err)
	}
	expected := []string{"key-from-env", "key-from-file", "key-from-file", "prefix-key-from-env", "literal"}
	for i, key := range keys {
		if string(key) != expected[i] {
			t.Errorf("keys[%d] = %q, expected %q", i, key, expected[i])
		}
	}

	_, err = resolveKeys([]string{"{file." + filepath.Join(dir, "missing") + "}"})
	if err == nil || !strings.Contains(err.Error(), "keys[0]: resolves to an empty key") {
		t.Errorf("missing file: error = %v, expected keys[0]: resolves to an empty key", err)
	}
	_, err = resolveKeys([]string{"prefix-{env.DAILY_UNSET_KEY_FOR_TEST}"})
	if err == nil || !strings.Contains(err.Error(), "placeholder {env.DAILY_UNSET_KEY_FOR_TEST}") {
		t.Errorf("partly unset key: error = %v, expected it to name the placeholder", err)
	}
}

func TestCoreValueSyntax(t *testing.T) {
	tests := map[string]string{
		"{http.request.uri.path.1}":                         "{path.1}",
		"{http.request.header.X-Room}":                      "{header.X-Room}",
		"{http.request.uri.query.room}":                     "{query.room}",
		"room-{http.request.uri.query.room.name}-x":         "room-{query.room.name}-x",
		"{http.request.uri.path.file}":                      "{http.request.uri.path.file}",
		"{http.request.host}":                               "{http.request.host}",
		"{http.auth.user.id}":                               "{http.auth.user.id}",
		"{path.2}":                                          "{path.2}",
		"{http.request.header.A}/{http.request.uri.path.0}": "{header.A}/{path.0}",
	}
	for input, expected := range tests {
		if got := coreValueSyntax(input); got != expected {
			t.Errorf("coreValueSyntax(%q) = %q, expected %q", input, got, expected)
		}
	}
}

// observe replaces the loggers of a provisioned handler with one that
// records every entry.
func observe(h *Handler) *observer.ObservedLogs {
	core, logs := observer.New(zapcore.DebugLevel)
	h.logger = zap.New(core)
	if h.validation != nil {
		h.validation.logger = h.logger
	}
	return logs
}

// serve runs h on a request with a Caddy replacer, as Caddy's server would.
func serve(h *Handler, req *http.Request, next caddyhttp.Handler) (*httptest.ResponseRecorder, error) {
	repl := caddy.NewReplacer()
	req = req.WithContext(context.WithValue(req.Context(), caddy.ReplacerCtxKey, repl))
	recorder := httptest.NewRecorder()
	return recorder, h.ServeHTTP(recorder, req, next)
}

var nextOK = caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
})

func TestRejectionLogNamesFingerprintNotToken(t *testing.T) {
	handler := &Handler{Keys: []string{testKey}, ValidatorOptions: ValidatorOptions{Room: "hello"}}
	if err := provision(t, handler); err != nil {
		t.Fatal(err)
	}
	logs := observe(handler)

	token := roomToken("other")
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	_, err := serve(handler, req, nextOK)

	handlerErr, ok := err.(caddyhttp.HandlerError)
	if !ok || handlerErr.StatusCode != http.StatusForbidden {
		t.Fatalf("error = %#v, expected a caddyhttp.HandlerError with status 403", err)
	}
	entries := logs.All()
	if len(entries) != 1 {
		t.Fatalf("logged %d entries, expected 1", len(entries))
	}
	entry := entries[0]
	if entry.Level != zapcore.DebugLevel {
		t.Errorf("level = %s, expected debug for a client mistake", entry.Level)
	}
	fields := entry.ContextMap()
	if fields["reason"] != "room_mismatch" || fields["fingerprint"] != tokencore.Fingerprint(token) {
		t.Errorf("fields = %v, expected reason room_mismatch and the token's fingerprint", fields)
	}
	signature := token[strings.LastIndex(token, ".")+1:]
	for name, value := range fields {
		text, _ := value.(string)
		if strings.Contains(text, token) || strings.Contains(text, signature) || strings.Contains(text, testKey) {
			t.Errorf("log field %s = %q contains the token, its signature or the key", name, text)
		}
	}
}

func TestServeSetsPlaceholders(t *testing.T) {
	handler := &Handler{Keys: []string{testKey}}
	if err := provision(t, handler); err != nil {
		t.Fatal(err)
	}
	claims := casetable.With(roomClaims("hello"), map[string]any{"o": true, "d": "domain-1"})
	token := casetable.Sign(testKey, casetable.HS256Header, claims)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+token)

	var seen map[string]string
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		repl := replacerOf(r)
		seen = map[string]string{}
		for _, name := range []string{placeholderRoom, placeholderUserID, placeholderUserName, placeholderIsOwner,
			placeholderDomainID, placeholderExp, placeholderFingerprint, "http.auth.user.id"} {
			seen[name], _ = repl.GetString(name)
		}
		return nil
	})
	if _, err := serve(handler, req, next); err != nil {
		t.Fatal(err)
	}
	expected := map[string]string{
		placeholderRoom:        "hello",
		placeholderUserID:      "user-1",
		placeholderUserName:    "Ann",
		placeholderIsOwner:     "true",
		placeholderDomainID:    "domain-1",
		placeholderExp:         strconv.FormatInt(claims["exp"].(int64), 10),
		placeholderFingerprint: tokencore.Fingerprint(token),
		"http.auth.user.id":    "user-1",
	}
	for name, value := range expected {
		if seen[name] != value {
			t.Errorf("{%s} = %q, expected %q", name, seen[name], value)
		}
	}
}

func TestUserIDFallsBack(t *testing.T) {
	if got := userID(&tokencore.Claims{UserName: "Ann"}, "abc"); got != "Ann" {
		t.Errorf("without user id: %q, expected the user name Ann", got)
	}
	if got := userID(&tokencore.Claims{}, "abc"); got != "abc" {
		t.Errorf("without user id and name: %q, expected the fingerprint abc", got)
	}
}
