package casetable

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCaseNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Cases() {
		if seen[c.Name] {
			t.Errorf("case name %q is used twice", c.Name)
		}
		seen[c.Name] = true
		if c.Request == nil {
			t.Errorf("case %q has no request", c.Name)
		}
	}
}

func TestVerifyTokenRoundTrip(t *testing.T) {
	now := time.Now()
	claims, err := VerifyToken(Key, ValidToken(now))
	if err != nil {
		t.Fatalf("VerifyToken(valid token): %v", err)
	}
	if claims["r"] != Room || claims["exp"] != float64(now.Add(time.Hour).Unix()) {
		t.Errorf("claims = %v, expected room %s and exp in an hour", claims, Room)
	}
}

func TestVerifyTokenRejects(t *testing.T) {
	now := time.Now()
	tokens := map[string]string{
		"tampered":    Tamper(ValidToken(now)),
		"other key":   Sign(OtherKey, HS256Header, ValidClaims(now)),
		"alg none":    Sign(Key, `{"alg":"none"}`, ValidClaims(now)),
		"two parts":   strings.Join(strings.Split(ValidToken(now), ".")[:2], "."),
		"not base64":  "a.b.c!",
		"empty token": "",
	}
	for name, token := range tokens {
		if _, err := VerifyToken(Key, token); err == nil {
			t.Errorf("VerifyToken(%s) = nil error, expected a rejection", name)
		}
	}
}

func TestCheckReportsDifferences(t *testing.T) {
	c := Case{Name: "check", Expect: Expect{Status: 200, Upstream: true, Headers: map[string]string{"X-Daily-Room": Room}}}
	request := Request{Method: "GET", Target: "/"}

	_, problems := c.Check(request, Observation{Status: 401})
	if len(problems) != 1 || !strings.Contains(problems[0], "status = 401") {
		t.Errorf("problems for a wrong status = %q, expected one about the status", problems)
	}

	upstream := &UpstreamRequest{Header: map[string][]string{"X-Daily-Room": {"retro"}}}
	_, problems = c.Check(request, Observation{Status: 200, Upstream: upstream})
	if len(problems) != 1 || !strings.Contains(problems[0], "X-Daily-Room") {
		t.Errorf("problems for a wrong header = %q, expected one about X-Daily-Room", problems)
	}

	upstream.Header.Set("X-Daily-Room", Room)
	if _, problems = c.Check(request, Observation{Status: 200, Upstream: upstream}); len(problems) != 0 {
		t.Errorf("problems for a matching observation = %q, expected none", problems)
	}
}

func TestHostileCasesHaveKinds(t *testing.T) {
	counts := map[string]int{}
	for _, c := range HostileCases() {
		if c.Kind == "" {
			t.Errorf("hostile case %q has no kind", c.Name)
		}
		counts[c.Kind]++
	}
	for _, kind := range []string{KindSegments, KindHeaderJSON, KindPayloadJSON, KindClaimTypes, KindTimeClaims, KindSources, KindInjection} {
		if counts[kind] == 0 {
			t.Errorf("kind %q has no case", kind)
		}
	}
	t.Logf("hostile cases by kind: %v", counts)
}

func TestHostileRequestsBuild(t *testing.T) {
	now := time.Now()
	for _, c := range HostileCases() {
		request := c.Request(now)
		if request.Method == "" || !strings.HasPrefix(request.Target, "/") {
			t.Errorf("case %q: request %s %.40q, expected a method and a path", c.Name, request.Method, request.Target)
		}
	}
}

func TestCheckFlagsClientClaimHeaders(t *testing.T) {
	c := Case{Name: "check", Config: validateConfig(), Expect: Expect{Status: 200, Upstream: true}}
	request := Request{Method: "GET", Target: "/"}
	upstream := &UpstreamRequest{Header: http.Header{
		"X-Daily-Room":  {Room},
		"X_daily_extra": {"client"},
	}}
	_, problems := c.Check(request, Observation{Status: 200, Upstream: upstream})
	if len(problems) != 1 || !strings.Contains(problems[0], "X_daily_extra") {
		t.Errorf("problems for a client header under the prefix = %q, expected one about X_daily_extra", problems)
	}

	upstream.Header = http.Header{"X-Daily-Room": {Room, "hijacked"}}
	_, problems = c.Check(request, Observation{Status: 200, Upstream: upstream})
	if len(problems) != 1 || !strings.Contains(problems[0], "expected one value") {
		t.Errorf("problems for a repeated claim header = %q, expected one about the values", problems)
	}

	upstream.Header = http.Header{"X-Daily-User-Name": {"Ada\x7f"}}
	_, problems = c.Check(request, Observation{Status: 200, Upstream: upstream})
	if len(problems) != 1 || !strings.Contains(problems[0], "control character") {
		t.Errorf("problems for a control character = %q, expected one about it", problems)
	}
}

func TestCheckFlagsTokenLeftAfterStrip(t *testing.T) {
	c := Case{Name: "check", Config: configWith(validateConfig(), func(c *Config) { c.StripToken = true }), Expect: Expect{Status: 200, Upstream: true}}
	token := ValidToken(time.Now())
	request := Request{Method: "GET", Target: "/", Token: token}

	upstream := &UpstreamRequest{Header: http.Header{"Cookie": {"a=1; daily_token=" + token}}, RawQuery: "page=2"}
	_, problems := c.Check(request, Observation{Status: 200, Upstream: upstream})
	if len(problems) != 1 || !strings.Contains(problems[0], "Cookie") {
		t.Errorf("problems for a token left in a cookie = %q, expected one about Cookie", problems)
	}

	upstream = &UpstreamRequest{Header: http.Header{}, RawQuery: "x=" + token}
	if _, problems = c.Check(request, Observation{Status: 200, Upstream: upstream}); len(problems) == 0 {
		t.Error("no problem for a token left in the query, expected one")
	}
}

func TestCheckFlagsEchoedToken(t *testing.T) {
	c := Case{Name: "check", Config: validateConfig(), Expect: rejected(401, "invalid_signature", "invalid_token")}
	token := Tamper(ValidToken(time.Now()))
	request := get("/rooms/standup", bearer(token))
	signature := token[strings.LastIndexByte(token, '.')+1:]

	header := http.Header{"Content-Type": {"application/json"}, "Www-Authenticate": {`Bearer error="invalid_token"`}}
	body := []byte(`{"error":"invalid_signature","info":"signature ` + signature + ` does not match"}`)
	_, problems := c.Check(request, Observation{Status: 401, Header: header, Body: body})
	if len(problems) != 1 || !strings.Contains(problems[0], "repeats a token or signature") {
		t.Errorf("problems for an echoed signature = %q, expected one about the echo", problems)
	}
}

func TestPayloadPlaceholderIsCompactPayload(t *testing.T) {
	token := SignRaw(Key, HS256Header, "{\n  \"r\": \"standup\"\n}")
	if got := compactPayload(token); got != `{"r":"standup"}` {
		t.Errorf("compactPayload = %q, expected {\"r\":\"standup\"}", got)
	}
}
