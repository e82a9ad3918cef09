package casetable

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"
)

// Observation is the outcome of one case in an adapter test.
type Observation struct {
	// Status, Header and Body are the response the client received.
	Status int
	Header http.Header
	Body   []byte

	// Upstream is the request as the upstream received it, or nil when the
	// upstream was not called.
	Upstream *UpstreamRequest
}

// UpstreamRequest is the request as an upstream received it.
type UpstreamRequest struct {
	Header   http.Header
	RawQuery string
}

// Check compares o with the case's expectation and returns the minted token,
// if the case expects one, and a sentence for each difference. On a
// validating route it also checks what every case must meet: the response
// repeats no token of the request, the upstream gets no client header under
// the claim header prefix, and with stripping on no token.
func (c Case) Check(request Request, o Observation) (minted string, problems []string) {
	e := c.Expect
	report := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}

	// the response
	if o.Status != e.Status && (e.OrStatus == 0 || o.Status != e.OrStatus) {
		report("status = %d, expected %d; body %.300s", o.Status, e.Status, o.Body)
		return "", problems
	}
	if o.Status == e.Status {
		problems = append(problems, checkResponse(e, o)...)
	}

	// the minted token
	if e.Token != nil {
		var tokenProblems []string
		minted, tokenProblems = checkToken(e.Token, o)
		problems = append(problems, tokenProblems...)
	}

	// the upstream
	if c.Config.Mode == "validate" {
		problems = append(problems, checkNoEcho(c.Config, request, o)...)
	}
	if !e.Upstream {
		if o.Upstream != nil {
			report("upstream was called, expected no call")
		}
		return minted, problems
	}
	if o.Upstream == nil {
		report("upstream was not called")
		return minted, problems
	}
	if c.Config.Mode == "validate" {
		problems = append(problems, checkClaimHeaders(c.Config, o.Upstream)...)
		if c.Config.StripToken {
			problems = append(problems, checkStripped(request, o.Upstream)...)
		}
	}
	for name, value := range e.Headers {
		value = strings.ReplaceAll(value, "{token}", request.Token)
		if strings.Contains(value, "{payload}") {
			value = strings.ReplaceAll(value, "{payload}", compactPayload(request.Token))
		}
		got := o.Upstream.Header.Values(name)
		if len(got) != 1 || got[0] != value {
			report("upstream header %s = %q, expected [%.80q]", name, truncateAll(got), value)
		}
	}
	for _, name := range e.AbsentHeaders {
		for key, values := range o.Upstream.Header {
			if strings.EqualFold(key, name) {
				report("upstream header %s = %q, expected none", key, truncateAll(values))
			}
		}
	}
	if e.RawQuery != nil {
		want := strings.ReplaceAll(*e.RawQuery, "{token}", request.Token)
		want = strings.ReplaceAll(want, "{minted}", minted)
		if o.Upstream.RawQuery != want {
			report("upstream query = %.200q, expected %.200q", o.Upstream.RawQuery, want)
		}
	}
	return minted, problems
}

// checkResponse checks the body and headers of the response.
func checkResponse(e Expect, o Observation) []string {
	var problems []string
	report := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}

	for name, value := range e.ResponseHeaders {
		if got := o.Header.Get(name); got != value {
			report("response header %s = %q, expected %q", name, got, value)
		}
	}

	challenge := o.Header.Get("WWW-Authenticate")
	if o.Status == http.StatusUnauthorized || o.Status == http.StatusForbidden {
		if !strings.HasPrefix(challenge, "Bearer") {
			report("WWW-Authenticate = %q, expected a Bearer challenge", challenge)
		}
		if e.ChallengeError == "" && strings.Contains(challenge, "error=") {
			report("WWW-Authenticate = %q, expected no error code", challenge)
		}
		if e.ChallengeError != "" && !strings.Contains(challenge, `error="`+e.ChallengeError+`"`) {
			report("WWW-Authenticate = %q, expected error=%q", challenge, e.ChallengeError)
		}
	} else if challenge != "" {
		report("WWW-Authenticate = %q on status %d, expected none", challenge, o.Status)
	}
	if e.ChallengeContains != "" && !strings.Contains(challenge, e.ChallengeContains) {
		report("WWW-Authenticate = %q, expected it to contain %q", challenge, e.ChallengeContains)
	}

	if e.Reason == "" {
		return problems
	}
	if got := o.Header.Get("Content-Type"); got != "application/json" {
		report("Content-Type of the rejection = %q, expected application/json", got)
	}
	var body struct {
		Error string `json:"error"`
		Info  string `json:"info"`
	}
	if err := json.Unmarshal(o.Body, &body); err != nil {
		report("body %.200q is not JSON: %v", o.Body, err)
		return problems
	}
	if body.Error != e.Reason {
		report("body error = %q, expected %q (info %q)", body.Error, e.Reason, body.Info)
	}
	if e.InfoContains != "" && !strings.Contains(body.Info, e.InfoContains) {
		report("body info = %q, expected it to contain %q", body.Info, e.InfoContains)
	}
	return problems
}

// checkToken finds the minted token, verifies it with Key and checks its
// claims.
func checkToken(e *TokenExpect, o Observation) (string, []string) {
	token, err := findToken(e.In, o)
	if err != nil {
		return "", []string{err.Error()}
	}

	claims, err := VerifyToken(Key, token)
	if err != nil {
		return token, []string{fmt.Sprintf("minted token does not verify with the key: %v", err)}
	}

	var problems []string
	report := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	for name, want := range e.Claims {
		if got, ok := claims[name]; !ok || !reflect.DeepEqual(got, want) {
			report("minted claim %s = %#v, expected %#v", name, got, want)
		}
	}
	for _, name := range e.Absent {
		if got, ok := claims[name]; ok {
			report("minted claim %s = %#v, expected none", name, got)
		}
	}

	iat, iatOK := claims["iat"].(float64)
	exp, expOK := claims["exp"].(float64)
	if !iatOK || !expOK {
		report("minted iat = %v and exp = %v, expected numbers", claims["iat"], claims["exp"])
		return token, problems
	}
	if lifetime := time.Duration(exp-iat) * time.Second; lifetime != e.Lifetime {
		report("minted lifetime exp-iat = %s, expected %s", lifetime, e.Lifetime)
	}
	if skew := time.Since(time.Unix(int64(iat), 0)); skew < -time.Second || skew > time.Minute {
		report("minted iat is %s away from now", skew)
	}
	nbf, hasNbf := claims["nbf"]
	if e.NotBefore && nbf != claims["iat"] {
		report("minted nbf = %v, expected iat %v", nbf, claims["iat"])
	}
	if !e.NotBefore && hasNbf {
		report("minted nbf = %v, expected none", nbf)
	}
	return token, problems
}

// findToken returns the minted token from the location in.
func findToken(in string, o Observation) (string, error) {
	if in == "response" {
		var body map[string]string
		if err := json.Unmarshal(o.Body, &body); err != nil {
			return "", fmt.Errorf("body %.200q is not a JSON object of strings: %v", o.Body, err)
		}
		if len(body) != 1 || body["token"] == "" {
			return "", fmt.Errorf("body %.200q, expected {\"token\": ...} alone", o.Body)
		}
		return body["token"], nil
	}

	if o.Upstream == nil {
		return "", fmt.Errorf("no upstream request to find the minted token in")
	}
	kind, name, _ := strings.Cut(in, ":")
	switch kind {
	case "header":
		values := o.Upstream.Header.Values(name)
		if len(values) != 1 {
			return "", fmt.Errorf("upstream header %s = %q, expected one minted token", name, truncateAll(values))
		}
		token := values[0]
		if http.CanonicalHeaderKey(name) == "Authorization" {
			var found bool
			token, found = strings.CutPrefix(token, "Bearer ")
			if !found {
				return "", fmt.Errorf("upstream Authorization = %.40q, expected the Bearer scheme", values[0])
			}
		}
		return token, nil
	case "query":
		query, err := url.ParseQuery(o.Upstream.RawQuery)
		if err != nil {
			return "", fmt.Errorf("upstream query %.200q: %v", o.Upstream.RawQuery, err)
		}
		if len(query[name]) != 1 {
			return "", fmt.Errorf("upstream query parameter %s = %q, expected one minted token", name, truncateAll(query[name]))
		}
		return query[name][0], nil
	}
	return "", fmt.Errorf("token location %q is not header:Name, query:name or response", in)
}

// truncateAll shortens long values, such as 100 KB headers, for messages.
func truncateAll(values []string) []string {
	out := make([]string, len(values))
	for i, value := range values {
		if len(value) > 80 {
			value = value[:80] + "..."
		}
		out[i] = value
	}
	return out
}
