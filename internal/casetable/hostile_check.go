package casetable

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// claimHeaderNames are the names, after the prefix, of the claim headers a
// validating middleware may set for the upstream.
var claimHeaderNames = []string{"Room", "Domain-Id", "User-Id", "User-Name", "Is-Owner", "Exp", "Claims"}

// checkClaimHeaders checks the headers under the claim header prefix that
// reach the upstream of a validating route, whatever the case. Each must be
// one of the claim headers, spelled as the middleware writes it, with one
// value and no control character. Any other header under the prefix, in any
// spelling, came from the client.
func checkClaimHeaders(config Config, upstream *UpstreamRequest) []string {
	prefix := config.HeaderPrefix
	if prefix == "" {
		prefix = "X-Daily-"
	}
	normalizedPrefix := normalizeHeaderName(prefix)
	allowed := map[string]bool{}
	for _, name := range claimHeaderNames {
		allowed[textproto.CanonicalMIMEHeaderKey(prefix+name)] = true
	}

	var problems []string
	for name, values := range upstream.Header {
		if !strings.HasPrefix(normalizeHeaderName(name), normalizedPrefix) {
			continue
		}
		if !allowed[name] {
			problems = append(problems, fmt.Sprintf("upstream header %q = %q is under the claim header prefix and is not a claim header", name, truncateAll(values)))
			continue
		}
		if len(values) != 1 {
			problems = append(problems, fmt.Sprintf("upstream header %s = %q, expected one value", name, truncateAll(values)))
		}
		for _, value := range values {
			if i := strings.IndexFunc(value, isControl); i >= 0 {
				problems = append(problems, fmt.Sprintf("upstream header %s = %q contains a control character at byte %d", name, truncate(value), i))
			}
		}
	}
	return problems
}

// checkStripped checks that an upstream request of a route with token
// stripping carries the request's token in no header and no query value.
func checkStripped(request Request, upstream *UpstreamRequest) []string {
	token := request.Token
	if token == "" {
		return nil
	}
	var problems []string
	for name, values := range upstream.Header {
		for _, value := range values {
			if strings.Contains(value, token) {
				problems = append(problems, fmt.Sprintf("upstream header %s still carries the token, expected it stripped", name))
			}
		}
	}
	query, _ := url.ParseQuery(upstream.RawQuery)
	for name, values := range query {
		for _, value := range values {
			if strings.Contains(value, token) {
				problems = append(problems, fmt.Sprintf("upstream query parameter %q still carries the token, expected it stripped", name))
			}
		}
	}
	if strings.Contains(upstream.RawQuery, token) {
		problems = append(problems, "upstream query still carries the token, expected it stripped")
	}
	return problems
}

// checkNoEcho checks that the response to a validating route repeats no
// token candidate of the request, nor its last segment, the signature: a
// rejection names the reason, never the token.
func checkNoEcho(config Config, request Request, o Observation) []string {
	secrets := Case{Config: config}.Secrets(request, "")

	var problems []string
	for _, secret := range secrets {
		if bytes.Contains(o.Body, []byte(secret)) {
			problems = append(problems, fmt.Sprintf("response body %q repeats a token or signature of the request", truncate(string(o.Body))))
		}
		for name, values := range o.Header {
			for _, value := range values {
				if strings.Contains(value, secret) {
					problems = append(problems, fmt.Sprintf("response header %s repeats a token or signature of the request", name))
				}
			}
		}
	}
	return problems
}

// tokenCandidates returns every value that the route's token sources find in
// the request, read with the standard library.
func tokenCandidates(config Config, request Request) []string {
	sources := config.Sources
	if len(sources) == 0 {
		sources = []string{"bearer", "query:t"}
	}
	header := http.Header{}
	for name, values := range request.Header {
		for _, value := range values {
			header.Add(name, value)
		}
	}
	_, rawQuery, _ := strings.Cut(request.Target, "?")
	query, _ := url.ParseQuery(rawQuery)

	var candidates []string
	for _, source := range sources {
		kind, name, _ := strings.Cut(source, ":")
		switch kind {
		case "bearer":
			for _, value := range header.Values("Authorization") {
				scheme, rest, _ := strings.Cut(strings.TrimSpace(value), " ")
				if strings.EqualFold(scheme, "bearer") {
					candidates = append(candidates, strings.TrimSpace(rest))
				}
			}
		case "query":
			candidates = append(candidates, query[name]...)
		case "cookie":
			for _, cookie := range (&http.Request{Header: header}).Cookies() {
				if cookie.Name == name {
					candidates = append(candidates, cookie.Value)
				}
			}
		case "header":
			candidates = append(candidates, header.Values(name)...)
		}
	}
	return candidates
}

// compactPayload returns the payload of token as compact JSON, or a marker
// that matches no header value when the payload is not JSON.
func compactPayload(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "<token has no payload segment>"
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return "<payload is not base64url>"
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, payload); err != nil {
		return "<payload is not JSON>"
	}
	return compact.String()
}

func normalizeHeaderName(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), "_", "-")
}

func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f
}

func truncate(s string) string {
	return truncateAll([]string{s})[0]
}

// Secrets returns the strings of a case that no log line and no rejection may
// contain: the configured keys, every token the request carries in the
// route's sources with its signature, and minted, the token a minting route
// made, if any, with its signature. Values shorter than 16 bytes are left
// out, because they occur in ordinary text, and so is the encoded header
// {"alg":"HS256","typ":"JWT"}, which starts every token and is public. A token
// in a place the route does not read is not included: the middleware never
// sees it as a token.
func (c Case) Secrets(request Request, minted string) []string {
	secrets := append([]string(nil), c.Config.Keys...)
	values := tokenCandidates(c.Config, request)
	if minted != "" {
		values = append(values, minted)
	}
	publicHeader := b64.EncodeToString([]byte(HS256Header))
	for _, value := range values {
		if len(value) >= 16 && value != publicHeader {
			secrets = append(secrets, value)
		}
		if dot := strings.LastIndexByte(value, '.'); dot >= 0 && len(value)-dot-1 >= 16 {
			secrets = append(secrets, value[dot+1:])
		}
	}
	return secrets
}
