package caddymodule

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

// adapt runs the Caddyfile adapter on input, named Caddyfile.
func adapt(input string) ([]byte, error) {
	adapter := caddyconfig.GetAdapter("caddyfile")
	config, _, err := adapter.Adapt([]byte(input), map[string]any{"filename": "Caddyfile"})
	return config, err
}

// findHandlers returns every handler object named name in an adapted config, in order.
func findHandlers(value any, name string) []map[string]any {
	var found []map[string]any
	switch v := value.(type) {
	case map[string]any:
		if v["handler"] == name {
			found = append(found, v)
		}
		for _, key := range []string{"apps", "http", "servers", "srv0", "routes", "handle"} {
			if child, ok := v[key]; ok {
				found = append(found, findHandlers(child, name)...)
			}
		}
	case []any:
		for _, item := range v {
			found = append(found, findHandlers(item, name)...)
		}
	}
	return found
}

func TestCaddyfileSubdirectivesToJSON(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		expected string
	}{
		{"keys", `daily_token {
			keys {env.DAILY_API_KEY} {env.DAILY_OLD_KEY}
			keys third
		}`, `{"keys": ["{env.DAILY_API_KEY}", "{env.DAILY_OLD_KEY}", "third"]}`},
		{"validate mode", `daily_token validate {
			keys k
		}`, `{"mode": "validate", "keys": ["k"]}`},
		{"sources", `daily_token {
			keys k
			sources bearer query:t cookie:daily header:X-Token
		}`, `{"keys": ["k"], "sources": ["bearer", "query:t", "cookie:daily", "header:X-Token"]}`},
		{"durations", `daily_token {
			keys k
			leeway 10s
			max_lifetime 1d
		}`, `{"keys": ["k"], "leeway": 10000000000, "max_lifetime": 86400000000000}`},
		{"no lifetime limit", `daily_token {
			keys k
			max_lifetime off
		}`, `{"keys": ["k"], "max_lifetime": -1}`},
		{"zero leeway", `daily_token {
			keys k
			leeway 0
		}`, `{"keys": ["k"], "leeway": 0}`},
		{"switches", `daily_token {
			keys k
			allow_missing_exp
			allow_roomless
			require_owner
			strip_token
			allow_preflight
		}`, `{"keys": ["k"], "allow_missing_exp": true, "allow_roomless": true, "require_owner": true, "strip_token": true, "allow_preflight": true}`},
		{"room from the path", `daily_token {
			keys k
			room {path.1}
		}`, `{"keys": ["k"], "room": "{http.request.uri.path.1}"}`},
		{"fixed room and domain", `daily_token {
			keys k
			room standup
			domain_id 25df5057-ef0d-4d97-bde6-0cf287276cbb
		}`, `{"keys": ["k"], "room": "standup", "domain_id": "25df5057-ef0d-4d97-bde6-0cf287276cbb"}`},
		{"permissions", `daily_token {
			keys k
			require_permissions hasPresence canSend:screenVideo
			require_permissions canAdmin
		}`, `{"keys": ["k"], "require_permissions": ["hasPresence", "canSend:screenVideo", "canAdmin"]}`},
		{"header prefix, size and realm", `daily_token {
			keys k
			header_prefix X-Meeting-
			max_token_size 8KiB
			realm meetings
		}`, `{"keys": ["k"], "header_prefix": "X-Meeting-", "max_token_size": 8192, "realm": "meetings"}`},
		{"mint", `daily_token mint {
			keys k
			claim room_name {path.1}
			claim user_id {header.X-User-Id}
			claim is_owner true
			claim permissions ` + "`" + `{"canSend": ["video"]}` + "`" + `
			lifetime 15m
			not_before
			target response
		}`, `{"mode": "mint", "keys": ["k"], "claims": {
			"room_name": "{http.request.uri.path.1}",
			"user_id": "{http.request.header.X-User-Id}",
			"is_owner": "true",
			"permissions": {"canSend": ["video"]}
		}, "lifetime": 900000000000, "not_before": true, "target": "response"}`},
		{"mint into a query parameter", `daily_token mint {
			keys k
			target query:t
		}`, `{"mode": "mint", "keys": ["k"], "target": "query:t"}`},
		{"Daily's REST API", `daily_token {
			keys {env.DAILY_API_KEY}
			daily_api http://127.0.0.1:9/v1 {
				timeout 2s
				max_backoff 30s
				cache_size -1
				cache_ttl 30s
				negative_cache_ttl 5s
			}
		}`, `{"keys": ["{env.DAILY_API_KEY}"], "daily_api": {"base_url": "http://127.0.0.1:9/v1", "timeout": 2000000000,
			"max_backoff": 30000000000, "cache_size": -1, "cache_ttl": 30000000000, "negative_cache_ttl": 5000000000}}`},
		{"Daily's REST API with defaults", `daily_token mint {
			keys k
			daily_api
		}`, `{"mode": "mint", "keys": ["k"], "daily_api": {}}`},
		{"mint with a header prefix", `daily_token mint {
			keys k
			header_prefix X-Meeting-
		}`, `{"mode": "mint", "keys": ["k"], "header_prefix": "X-Meeting-"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config, err := adapt(":8080 {\n" + tt.input + "\n}\n")
			if err != nil {
				t.Fatalf("adapting: %v", err)
			}
			var parsed any
			if err := json.Unmarshal(config, &parsed); err != nil {
				t.Fatal(err)
			}
			handlers := findHandlers(parsed, "daily_token")
			if len(handlers) != 1 {
				t.Fatalf("found %d daily_token handlers in %s, expected 1", len(handlers), config)
			}
			got := handlers[0]
			delete(got, "handler")

			var expected map[string]any
			if err := json.Unmarshal([]byte(tt.expected), &expected); err != nil {
				t.Fatalf("expected JSON: %v", err)
			}
			if !reflect.DeepEqual(got, expected) {
				gotJSON, _ := json.Marshal(got)
				expectedJSON, _ := json.Marshal(expected)
				t.Errorf("handler JSON = %s, expected %s", gotJSON, expectedJSON)
			}
		})
	}
}

func TestCaddyfileDirectiveOrder(t *testing.T) {
	// written in the opposite order of the one the directives run in
	config, err := adapt(`:8080 {
	reverse_proxy 127.0.0.1:9
	request_header X-Seen {http.auth.daily.room}
	daily_token {
		keys k
	}
	forward_auth 127.0.0.1:10 {
		uri /auth
	}
	basic_auth {
		alice ` + aliceHash + `
	}
}
`)
	if err != nil {
		t.Fatalf("adapting: %v", err)
	}
	text := string(config)
	order := []string{
		`"handler":"authentication"`,
		`"uri":"/auth"`, // forward_auth, a reverse_proxy with a rewrite
		`"handler":"daily_token"`,
		`"handler":"headers"`,
		`"dial":"127.0.0.1:9"`,
	}
	last := -1
	for _, marker := range order {
		index := strings.Index(text, marker)
		if index < 0 {
			t.Fatalf("adapted config lacks %s: %s", marker, text)
		}
		if index < last {
			t.Errorf("%s comes before the handler listed ahead of it; order %v in %s", marker, order, text)
		}
		last = index
	}
}

func TestCaddyfileErrors(t *testing.T) {
	tests := []struct {
		name     string
		block    string
		expected string
	}{
		{"unknown subdirective", "daily_token {\n\tkeys k\n\troom_name x\n}", "unrecognized daily_token subdirective 'room_name', at Caddyfile:4"},
		{"unknown mode", "daily_token issue {\n\tkeys k\n}", "unknown mode 'issue', expected validate or mint, at Caddyfile:2"},
		{"two modes", "daily_token mint validate {\n\tkeys k\n}", "wrong argument count or unexpected line ending after 'validate', at Caddyfile:2"},
		{"keys without argument", "daily_token {\n\tkeys\n}", "wrong argument count or unexpected line ending after 'keys', at Caddyfile:3"},
		{"room with two arguments", "daily_token {\n\tkeys k\n\troom a b\n}", "wrong argument count or unexpected line ending after 'a', at Caddyfile:4"},
		{"switch with an argument", "daily_token {\n\tkeys k\n\tstrip_token yes\n}", "wrong argument count or unexpected line ending after 'yes', at Caddyfile:4"},
		{"leeway without argument", "daily_token {\n\tkeys k\n\tleeway\n}", "wrong argument count or unexpected line ending after 'leeway', at Caddyfile:4"},
		{"invalid duration", "daily_token {\n\tkeys k\n\tmax_lifetime soon\n}", "max_lifetime: invalid duration 'soon'"},
		{"invalid size", "daily_token {\n\tkeys k\n\tmax_token_size big\n}", "max_token_size: invalid size 'big'"},
		{"claim with one argument", "daily_token mint {\n\tkeys k\n\tclaim room_name\n}", "wrong argument count or unexpected line ending after 'room_name', at Caddyfile:4"},
		{"claim set twice", "daily_token mint {\n\tkeys k\n\tclaim lang de\n\tclaim lang fr\n}", "claim 'lang' is set twice, at Caddyfile:5"},
		{"mint option when validating", "daily_token {\n\tkeys k\n\ttarget response\n}", "'target' is a mint option; write 'daily_token mint' to mint tokens, at Caddyfile:4"},
		{"unknown daily_api subdirective", "daily_token {\n\tkeys k\n\tdaily_api {\n\t\tretries 3\n\t}\n}", "unrecognized daily_api subdirective 'retries', at Caddyfile:5"},
		{"daily_api with two URLs", "daily_token {\n\tkeys k\n\tdaily_api http://a http://b\n}", "wrong argument count or unexpected line ending after 'http://b', at Caddyfile:4"},
		{"daily_api cache size not a number", "daily_token {\n\tkeys k\n\tdaily_api {\n\t\tcache_size many\n\t}\n}", "cache_size: invalid integer 'many'"},
		{"validate option when minting", "daily_token mint {\n\tkeys k\n\troom hello\n}", "'room' is a validate option, and this daily_token mints, at Caddyfile:4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := adapt(":8080 {\n" + tt.block + "\n}\n")
			if err == nil {
				t.Fatalf("adapting succeeded, expected an error containing %q", tt.expected)
			}
			if !strings.Contains(err.Error(), tt.expected) {
				t.Errorf("error = %q, expected it to contain %q", err, tt.expected)
			}
		})
	}
}
