package tokencore

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// sampleToken is a well-formed token; extraction does not verify it.
var sampleToken = signPayload(testKey, `{"r":"hello","exp":1864081538}`)

func mustExtractor(t testing.TB, specs ...string) *Extractor {
	t.Helper()
	e, err := NewExtractor(specs, 0)
	if err != nil {
		t.Fatalf("NewExtractor(%q): unexpected error: %v", specs, err)
	}
	return e
}

// newRequest returns a GET request for target with the given headers, each
// "Name: value", added in order so that a name may repeat.
func newRequest(target string, headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		r.Header.Add(name, value)
	}
	return r
}

func TestParseSource(t *testing.T) {
	accepted := map[string]Source{
		"bearer":              {Kind: SourceBearer},
		"Bearer":              {Kind: SourceBearer},
		" bearer ":            {Kind: SourceBearer},
		"header:X-Daily-Auth": {Kind: SourceHeader, Name: "X-Daily-Auth"},
		"header:x-daily-auth": {Kind: SourceHeader, Name: "X-Daily-Auth"},
		"query:t":             {Kind: SourceQuery, Name: "t"},
		"QUERY:T":             {Kind: SourceQuery, Name: "T"},
		"cookie:daily_token":  {Kind: SourceCookie, Name: "daily_token"},
	}
	for spec, want := range accepted {
		got, err := ParseSource(spec)
		if err != nil {
			t.Errorf("ParseSource(%q): unexpected error: %v", spec, err)
			continue
		}
		if got != want {
			t.Errorf("ParseSource(%q): expected %+v, got %+v", spec, want, got)
		}
		if again, _ := ParseSource(got.String()); again != got {
			t.Errorf("ParseSource(%q).String() = %q does not parse back to the same source", spec, got.String())
		}
	}

	rejected := map[string]string{
		"":            "unknown kind",
		"bearer:x":    "bearer takes no name",
		"header":      "missing header name",
		"header:":     "missing header name",
		"query:":      "missing query name",
		"cookie":      "missing cookie name",
		"form:t":      "unknown kind",
		"path:1":      "unknown kind",
		"authorizatn": "unknown kind",
	}
	for spec, want := range rejected {
		_, err := ParseSource(spec)
		if err == nil {
			t.Errorf("ParseSource(%q): expected an error, got nil", spec)
			continue
		}
		wantDescription(t, err, want)
	}
}

func TestNewExtractorDefaultsAndDuplicates(t *testing.T) {
	e := mustExtractor(t)
	want := []Source{{Kind: SourceBearer}, {Kind: SourceQuery, Name: "t"}}
	if got := e.Sources(); !reflect.DeepEqual(got, want) {
		t.Errorf("Sources of the default extractor: expected %+v, got %+v", want, got)
	}

	e.Sources()[0] = Source{Kind: SourceCookie, Name: "x"}
	if got := e.Sources(); !reflect.DeepEqual(got, want) {
		t.Errorf("Sources after changing a returned slice: expected %+v, got %+v", want, got)
	}

	if _, err := NewExtractor([]string{"query:t", "query:t"}, 0); err == nil {
		t.Error("NewExtractor with a source listed twice: expected an error, got nil")
	}
	if _, err := NewExtractor([]string{"header:x-token", "header:X-Token"}, 0); err == nil {
		t.Error("NewExtractor with one header in two spellings: expected an error, got nil")
	}
	if _, err := NewExtractor([]string{"bearer", "nonsense"}, 0); err == nil {
		t.Error("NewExtractor with an unknown source: expected an error, got nil")
	}
}

func TestExtractBearer(t *testing.T) {
	e := mustExtractor(t, "bearer")
	cases := []struct {
		name  string
		value string
	}{
		{"canonical", "Bearer " + sampleToken},
		{"lower case scheme", "bearer " + sampleToken},
		{"upper case scheme", "BEARER " + sampleToken},
		{"several spaces", "Bearer   " + sampleToken},
		{"leading and trailing space", "  Bearer " + sampleToken + "  "},
		{"tab after the token", "Bearer " + sampleToken + "\t"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x, err := e.Extract(newRequest("/", "Authorization: "+tc.value))
			if err != nil {
				t.Fatalf("Extract: unexpected error: %v", err)
			}
			if x.Token != sampleToken {
				t.Errorf("Extract: expected the token, got %q", x.Token)
			}
			if want := []Source{{Kind: SourceBearer}}; !reflect.DeepEqual(x.Sources, want) {
				t.Errorf("Sources: expected %+v, got %+v", want, x.Sources)
			}
		})
	}
}

func TestExtractBearerHeaderNameCaseInsensitive(t *testing.T) {
	// A client may write the header name in lower case, as HTTP/2 always does.
	r := newRequest("/")
	r.Header = http.Header{}
	r.Header.Add("authorization", "bearer "+sampleToken)

	x, err := mustExtractor(t, "bearer").Extract(r)
	if err != nil {
		t.Fatalf("Extract: unexpected error: %v", err)
	}
	if x.Token != sampleToken {
		t.Errorf("Extract: expected the token, got %q", x.Token)
	}
}

func TestExtractBearerRejected(t *testing.T) {
	e := mustExtractor(t, "bearer")
	cases := []struct {
		name  string
		value string
		want  *Error
	}{
		{"colon instead of space", "Bearer:" + sampleToken, ErrMissingToken},
		{"scheme without token", "Bearer", ErrMalformedToken},
		{"scheme and spaces only", "Bearer    ", ErrMalformedToken},
		{"two tokens", "Bearer " + sampleToken + " " + sampleToken, ErrMalformedToken},
		{"comma-separated tokens", "Bearer " + sampleToken + "," + sampleToken, ErrMalformedToken},
		{"tab as separator", "Bearer\t" + sampleToken, ErrMissingToken},
		{"other scheme only", "Basic dXNlcjpwYXNz", ErrMissingToken},
		{"scheme prefix", "Bearerx " + sampleToken, ErrMissingToken},
		{"token without scheme", sampleToken, ErrMissingToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x, err := e.Extract(newRequest("/", "Authorization: "+tc.value))
			if x != nil {
				t.Errorf("Extract: expected no extraction, got %q", x.Token)
			}
			e := wantKind(t, err, tc.want)
			if e.Status != http.StatusUnauthorized {
				t.Errorf("status: expected 401, got %d", e.Status)
			}
		})
	}
}

func TestExtractBasicAndBearerHeaders(t *testing.T) {
	e := mustExtractor(t)
	x, err := e.Extract(newRequest("/", "Authorization: Basic dXNlcjpwYXNz", "Authorization: Bearer "+sampleToken))
	if err != nil {
		t.Fatalf("Extract: unexpected error: %v", err)
	}
	if x.Token != sampleToken {
		t.Errorf("Extract: expected the Bearer token, got %q", x.Token)
	}

	x, err = e.Extract(newRequest("/", "Authorization: Bearer "+sampleToken, "Authorization: Basic dXNlcjpwYXNz"))
	if err != nil {
		t.Fatalf("Extract with Bearer first: unexpected error: %v", err)
	}
	if x.Token != sampleToken {
		t.Errorf("Extract with Bearer first: expected the Bearer token, got %q", x.Token)
	}
}

func TestExtractTwoBearerHeaders(t *testing.T) {
	e := mustExtractor(t)
	other := signPayload(testKey, `{"r":"other"}`)

	_, err := e.Extract(newRequest("/", "Authorization: Bearer "+sampleToken, "Authorization: Bearer "+other))
	wantKind(t, err, ErrAmbiguousToken)
	if strings.Contains(err.Error(), sampleToken) || strings.Contains(err.Error(), other) {
		t.Errorf("error message: expected no token in it, got %q", err)
	}

	x, err := e.Extract(newRequest("/", "Authorization: Bearer "+sampleToken, "Authorization: bearer "+sampleToken))
	if err != nil {
		t.Fatalf("Extract with the same token twice: unexpected error: %v", err)
	}
	if x.Token != sampleToken {
		t.Errorf("Extract with the same token twice: expected the token, got %q", x.Token)
	}
}

func TestExtractEachSource(t *testing.T) {
	cases := []struct {
		name    string
		spec    string
		request *http.Request
	}{
		{"bearer", "bearer", newRequest("/", "Authorization: Bearer "+sampleToken)},
		{"header", "header:X-Meeting-Token", newRequest("/", "X-Meeting-Token:  "+sampleToken+" ")},
		{"query", "query:t", newRequest("/room?t=" + sampleToken)},
		{"query among others", "query:t", newRequest("/room?a=1&t=" + sampleToken + "&b=2")},
		{"query with encoded name", "query:t", newRequest("/room?%74=" + sampleToken)},
		{"cookie", "cookie:daily_token", newRequest("/", "Cookie: a=1; daily_token="+sampleToken+"; b=2")},
		{"quoted cookie", "cookie:daily_token", newRequest("/", `Cookie: daily_token="`+sampleToken+`"`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := mustExtractor(t, tc.spec)
			x, err := e.Extract(tc.request)
			if err != nil {
				t.Fatalf("Extract: unexpected error: %v", err)
			}
			if x.Token != sampleToken {
				t.Errorf("Extract: expected the token, got %q", x.Token)
			}
			source, _ := ParseSource(tc.spec)
			if want := []Source{source}; !reflect.DeepEqual(x.Sources, want) {
				t.Errorf("Sources: expected %+v, got %+v", want, x.Sources)
			}
		})
	}
}

func TestExtractMissingToken(t *testing.T) {
	e := mustExtractor(t, "bearer", "query:t", "cookie:tok", "header:X-Tok")
	requests := []*http.Request{
		newRequest("/"),
		newRequest("/?t=", "Cookie: tok=", "X-Tok:   "),
		newRequest("/?T="+sampleToken, "Cookie: other="+sampleToken),
	}
	for _, r := range requests {
		_, err := e.Extract(r)
		e := wantKind(t, err, ErrMissingToken)
		if e.Code != "" {
			t.Errorf("code: expected none for a request without a token, got %q", e.Code)
		}
		wantDescription(t, err, "bearer, query:t, cookie:tok, header:X-Tok")
	}
}

func TestExtractAcrossSources(t *testing.T) {
	e := mustExtractor(t, "bearer", "query:t", "cookie:tok")
	other := signPayload(testKey, `{"r":"other"}`)

	x, err := e.Extract(newRequest("/?t="+sampleToken, "Authorization: Bearer "+sampleToken, "Cookie: tok="+sampleToken))
	if err != nil {
		t.Fatalf("Extract with the same token everywhere: unexpected error: %v", err)
	}
	want := []Source{{Kind: SourceBearer}, {Kind: SourceQuery, Name: "t"}, {Kind: SourceCookie, Name: "tok"}}
	if !reflect.DeepEqual(x.Sources, want) {
		t.Errorf("Sources: expected %+v, got %+v", want, x.Sources)
	}

	conflicts := []*http.Request{
		newRequest("/?t="+other, "Authorization: Bearer "+sampleToken),
		newRequest("/?t=" + sampleToken + "&t=" + other),
		newRequest("/", "Authorization: Bearer "+sampleToken, "Cookie: tok="+other),
		newRequest("/", "Cookie: tok="+sampleToken+"; tok="+other),
	}
	for i, r := range conflicts {
		_, err := e.Extract(r)
		if err == nil {
			t.Errorf("conflict %d: expected ErrAmbiguousToken, got nil", i)
			continue
		}
		wantKind(t, err, ErrAmbiguousToken)
	}
}

func TestExtractSizeLimit(t *testing.T) {
	e := mustExtractor(t, "bearer", "query:t", "cookie:tok", "header:X-Tok")
	huge := strings.Repeat("a", 100*1024)
	big := strings.Repeat("a", 64*1024)
	requests := map[string]*http.Request{
		"100 KB Authorization header": newRequest("/", "Authorization: Bearer "+huge),
		"100 KB Basic header":         newRequest("/", "Authorization: Basic "+huge),
		"64 KB query token":           newRequest("/?t=" + big),
		"64 KB cookie":                newRequest("/", "Cookie: tok="+big),
		"64 KB header":                newRequest("/", "X-Tok: "+big),
		"one byte over the limit":     newRequest("/?t=" + strings.Repeat("a", DefaultMaxTokenSize+1)),
	}
	for name, r := range requests {
		t.Run(name, func(t *testing.T) {
			x, err := e.Extract(r)
			if x != nil {
				t.Errorf("Extract: expected no extraction, got %d bytes", len(x.Token))
			}
			wantKind(t, err, ErrTokenTooLarge)
		})
	}

	atLimit := strings.Repeat("a", DefaultMaxTokenSize)
	if _, err := e.Extract(newRequest("/?t=" + atLimit)); err != nil {
		t.Errorf("Extract of a token at the limit: unexpected error: %v", err)
	}
	if _, err := e.Extract(newRequest("/", "Authorization: Bearer "+atLimit)); err != nil {
		t.Errorf("Extract of a Bearer token at the limit: unexpected error: %v", err)
	}

	small, err := NewExtractor([]string{"query:t"}, 10)
	if err != nil {
		t.Fatalf("NewExtractor: unexpected error: %v", err)
	}
	_, err = small.Extract(newRequest("/?t=" + strings.Repeat("a", 11)))
	wantKind(t, err, ErrTokenTooLarge)
	wantDescription(t, err, "11 bytes", "limit of 10")
}

func TestStripRemovesTokenEverywhere(t *testing.T) {
	e := mustExtractor(t, "bearer", "query:t", "cookie:tok", "header:X-Tok")
	r := newRequest("/rooms/hello?a=1&t="+sampleToken+"&b=x%20y&c=%E2%98%83&empty=&flag&%74="+sampleToken,
		"Authorization: Basic dXNlcjpwYXNz",
		"Authorization: Bearer "+sampleToken,
		"Cookie: a=1; tok="+sampleToken+"; b=\"quoted\"",
		"Cookie: c=3",
		"X-Tok: "+sampleToken,
		"X-Other: kept",
	)

	x, err := e.Extract(r)
	if err != nil {
		t.Fatalf("Extract: unexpected error: %v", err)
	}
	e.Strip(r, x)

	if want := "a=1&b=x%20y&c=%E2%98%83&empty=&flag"; r.URL.RawQuery != want {
		t.Errorf("RawQuery: expected %q, got %q", want, r.URL.RawQuery)
	}
	if want := "/rooms/hello?a=1&b=x%20y&c=%E2%98%83&empty=&flag"; r.RequestURI != want {
		t.Errorf("RequestURI: expected %q, got %q", want, r.RequestURI)
	}
	if want := []string{"Basic dXNlcjpwYXNz"}; !reflect.DeepEqual(r.Header.Values("Authorization"), want) {
		t.Errorf("Authorization: expected %q, got %q", want, r.Header.Values("Authorization"))
	}
	if want := []string{`a=1; b="quoted"`, "c=3"}; !reflect.DeepEqual(r.Header.Values("Cookie"), want) {
		t.Errorf("Cookie: expected %q, got %q", want, r.Header.Values("Cookie"))
	}
	if got := r.Header.Values("X-Tok"); len(got) != 0 {
		t.Errorf("X-Tok: expected it removed, got %q", got)
	}
	if got := r.Header.Get("X-Other"); got != "kept" {
		t.Errorf("X-Other: expected kept, got %q", got)
	}

	assertNoTokenLeft(t, r, sampleToken)
	if _, err := e.Extract(r); err == nil {
		t.Error("Extract after Strip: expected ErrMissingToken, got a token")
	}
}

// assertNoTokenLeft fails the test if token is anywhere in r's URL or headers.
func assertNoTokenLeft(t *testing.T, r *http.Request, token string) {
	t.Helper()
	if strings.Contains(r.URL.String(), token) || strings.Contains(r.RequestURI, token) {
		t.Errorf("URL: expected no token left, got %s", Fingerprint(r.URL.String()))
	}
	for name, values := range r.Header {
		for _, value := range values {
			if strings.Contains(value, token) {
				t.Errorf("header %s: expected no token left, found it", name)
			}
		}
	}
}

func TestStripCookieWithSpaceBeforeEquals(t *testing.T) {
	e := mustExtractor(t, "cookie:tok")
	r := newRequest("/", "Cookie: a=1; tok ="+sampleToken)

	x, err := e.Extract(r)
	if err != nil {
		t.Fatalf("Extract: unexpected error: %v", err)
	}
	if x.Token != sampleToken {
		t.Fatalf("Extract: expected the token from \"tok =\", got %q", x.Token)
	}
	e.Strip(r, x)

	assertNoTokenLeft(t, r, sampleToken)
	if got := r.Header.Get("Cookie"); got != "a=1" {
		t.Errorf("Cookie: expected a=1, got %q", got)
	}
}

func TestStripOnlyTheSourcesUsed(t *testing.T) {
	e := mustExtractor(t, "bearer", "query:t")
	r := newRequest("/?t="+sampleToken+"&x=1", "Cookie: t="+sampleToken)

	x, err := e.Extract(r)
	if err != nil {
		t.Fatalf("Extract: unexpected error: %v", err)
	}
	e.Strip(r, x)

	if r.URL.RawQuery != "x=1" {
		t.Errorf("RawQuery: expected x=1, got %q", r.URL.RawQuery)
	}
	// A cookie is not a configured source, so it is the upstream's business.
	if got := r.Header.Get("Cookie"); got != "t="+sampleToken {
		t.Errorf("Cookie: expected it unchanged, got %s", Fingerprint(got))
	}
}

func TestStripLastQueryParameterAndCookie(t *testing.T) {
	e := mustExtractor(t, "query:t", "cookie:tok")
	r := newRequest("/path?t="+sampleToken, "Cookie: tok="+sampleToken)

	x, err := e.Extract(r)
	if err != nil {
		t.Fatalf("Extract: unexpected error: %v", err)
	}
	e.Strip(r, x)

	if r.URL.RawQuery != "" {
		t.Errorf("RawQuery: expected empty, got %q", r.URL.RawQuery)
	}
	if r.RequestURI != "/path" {
		t.Errorf("RequestURI: expected /path, got %q", r.RequestURI)
	}
	if _, ok := r.Header["Cookie"]; ok {
		t.Errorf("Cookie: expected the header removed, got %q", r.Header["Cookie"])
	}
}

func TestRemoveQueryParam(t *testing.T) {
	cases := []struct {
		query string
		name  string
		want  string
	}{
		{"", "t", ""},
		{"t=1", "t", ""},
		{"t=1&t=2", "t", ""},
		{"a=1&t=2&b=3", "t", "a=1&b=3"},
		{"a=%2B&t=2&b=+", "t", "a=%2B&b=+"},
		{"tt=1&t=2&at=3", "t", "tt=1&at=3"},
		{"%74=1&t%3D=2", "t", "t%3D=2"},
		{"a+b=1&a%20b=2&c=3", "a b", "c=3"},
		{"a=1&&b=2", "t", "a=1&&b=2"},
		{"t", "t", ""},
		{"t&x", "t", "x"},
	}
	for _, tc := range cases {
		if got := removeQueryParam(tc.query, tc.name); got != tc.want {
			t.Errorf("removeQueryParam(%q, %q): expected %q, got %q", tc.query, tc.name, tc.want, got)
		}
	}
}

func TestRemoveCookie(t *testing.T) {
	cases := []struct {
		line string
		name string
		want string
	}{
		{"tok=1", "tok", ""},
		{"a=1; tok=2; b=3", "tok", "a=1; b=3"},
		{"a=1;tok=2;b=3", "tok", "a=1; b=3"},
		{"tok=1; tok=2", "tok", ""},
		{"tokx=1; xtok=2", "tok", "tokx=1; xtok=2"},
		{`a="x y"; tok=2`, "tok", `a="x y"`},
		// net/http reads these as the cookie tok, so they must go too.
		{"a=1; tok =2", "tok", "a=1"},
		{"tok\t= 2; b=3", "tok", "b=3"},
	}
	for _, tc := range cases {
		if got := removeCookie(tc.line, tc.name); got != tc.want {
			t.Errorf("removeCookie(%q, %q): expected %q, got %q", tc.line, tc.name, tc.want, got)
		}
	}
}
