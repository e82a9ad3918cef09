package caddymodule

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/internal/casetable"
)

// metricsSite has two validating routes and a minting one, which register
// the same counter with the config's registry, and Caddy's metrics handler
// on /metrics.
func metricsSite(up *upstream) string {
	return fmt.Sprintf(`http://:%d {
	handle /metrics {
		metrics
	}
	handle /rooms/* {
		daily_token {
			keys %[2]s
			room {path.1}
		}
		reverse_proxy %[3]s
	}
	handle /any/* {
		daily_token {
			keys %[2]s
		}
		reverse_proxy %[3]s
	}
	handle /token/* {
		daily_token mint {
			keys %[2]s
			claim room_name {path.1}
			target response
		}
	}
}
`, sitePort, testKey, up.addr())
}

func TestMetricsCountByJobAndOutcome(t *testing.T) {
	up := newUpstream(t)
	site := metricsSite(up)

	// a changed config is a reload, with a new registry; registering the
	// counter again must not fail, and counting starts from zero
	loadCaddyfile(t, site)
	get(t, "/rooms/hello/", bearer(roomToken("hello")))
	loadCaddyfile(t, strings.Replace(site, "handle /metrics {", "handle /reloaded {\n\t\trespond \"reloaded\"\n\t}\n\thandle /metrics {", 1))
	if resp := get(t, "/reloaded"); resp.body != "reloaded" {
		t.Fatalf("/reloaded: body = %q, expected the reloaded config", resp.body)
	}

	now := time.Now().Unix()
	get(t, "/rooms/hello/", bearer(roomToken("hello")))
	get(t, "/any/x", bearer(roomToken("hello")))
	get(t, "/rooms/hello/", bearer(roomToken("other")))
	get(t, "/rooms/hello/", bearer(casetable.Sign(testKey, casetable.HS256Header, casetable.With(roomClaims("hello"), map[string]any{"iat": now - 7200, "exp": now - 3600}))))
	get(t, "/rooms/hello/")
	get(t, "/token/hello")
	get(t, "/token/")

	resp := get(t, "/metrics")
	if resp.status != http.StatusOK {
		t.Fatalf("/metrics: status = %d, expected 200", resp.status)
	}
	for _, line := range []string{
		`caddy_daily_token_requests_total{job="validate",outcome="validated"} 2`,
		`caddy_daily_token_requests_total{job="validate",outcome="room_mismatch"} 1`,
		`caddy_daily_token_requests_total{job="validate",outcome="expired"} 1`,
		`caddy_daily_token_requests_total{job="validate",outcome="missing_token"} 1`,
		`caddy_daily_token_requests_total{job="mint",outcome="minted"} 1`,
		`caddy_daily_token_requests_total{job="mint",outcome="invalid_request_value"} 1`,
	} {
		if !strings.Contains(resp.body, line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	if t.Failed() {
		for _, line := range strings.Split(resp.body, "\n") {
			if strings.Contains(line, "daily_token") {
				t.Log(line)
			}
		}
	}
}
