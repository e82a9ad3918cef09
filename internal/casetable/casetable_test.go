package casetable

import (
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
