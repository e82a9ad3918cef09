package tokencore

import (
	"strings"
	"testing"
)

func TestParseRequestValueRejected(t *testing.T) {
	cases := []struct {
		value string
		want  string
	}{
		{"{path.x}", "path segment index must be a non-negative integer"},
		{"{path.-1}", "path segment index must be a non-negative integer"},
		{"{path.}", "path segment index must be a non-negative integer"},
		{"{header.}", "missing header name"},
		{"{query.}", "missing query name"},
		{"room-{path.1", "unclosed '{' at offset 5"},
		{"{", "unclosed '{'"},
		{"{http.request.host}", "unknown placeholder {http.request.host}"},
		{"{room}", "unknown placeholder {room}"},
		{"{cookie.session}", "unknown placeholder {cookie.session}"},
	}
	for _, tc := range cases {
		v, err := ParseRequestValue(tc.value)
		if err == nil {
			t.Errorf("ParseRequestValue(%q): expected error %q, got %+v", tc.value, tc.want, v)
			continue
		}
		wantDescription(t, err, tc.want, tc.value)
	}
}

func TestParseRequestValueLenientKeepsUnknownPlaceholders(t *testing.T) {
	v, err := ParseRequestValueLenient("{http.request.host}-{path.0}-{room}")
	if err != nil {
		t.Fatalf("ParseRequestValueLenient: unexpected error: %v", err)
	}
	if v.IsFixed() {
		t.Error("IsFixed: expected false for a value with placeholders, got true")
	}

	var expanded []string
	expand := func(s string) string {
		expanded = append(expanded, s)
		return strings.ReplaceAll(strings.ReplaceAll(s, "{http.request.host}", "example.com"), "{room}", "R")
	}
	got, err := v.Resolve(newRequest("/rooms/a"), expand)
	if err != nil {
		t.Fatalf("Resolve: unexpected error: %v", err)
	}
	if got != "example.com-rooms-R" {
		t.Errorf("Resolve: expected example.com-rooms-R, got %q", got)
	}
	for _, s := range expanded {
		if strings.Contains(s, "rooms") {
			t.Errorf("expand: expected only configured text, got request text %q", s)
		}
	}

	// Errors in this package's own placeholders are still errors.
	if _, err := ParseRequestValueLenient("{path.x}"); err == nil {
		t.Error("ParseRequestValueLenient({path.x}): expected an error, got nil")
	}
}

func TestParseRequestValueEscapes(t *testing.T) {
	strict, err := ParseRequestValue(`\{path.0\}-{path.0}`)
	if err != nil {
		t.Fatalf("ParseRequestValue: unexpected error: %v", err)
	}
	got, err := strict.Resolve(newRequest("/a/b"), nil)
	if err != nil {
		t.Fatalf("Resolve: unexpected error: %v", err)
	}
	if got != "{path.0}-a" {
		t.Errorf("Resolve: expected {path.0}-a, got %q", got)
	}
	if strict.String() != `\{path.0\}-{path.0}` {
		t.Errorf("String: expected the value as configured, got %q", strict.String())
	}

	// Lenient parsing keeps the escape for the adapter's own replacer.
	lenient, err := ParseRequestValueLenient(`\{x\}`)
	if err != nil {
		t.Fatalf("ParseRequestValueLenient: unexpected error: %v", err)
	}
	got, err = lenient.Resolve(newRequest("/"), func(s string) string { return "expanded:" + s })
	if err != nil {
		t.Fatalf("Resolve: unexpected error: %v", err)
	}
	if got != `expanded:\{x\}` {
		t.Errorf("Resolve: expected the escaped text passed to expand, got %q", got)
	}
}

func TestRequestValueIsFixed(t *testing.T) {
	cases := []struct {
		value   string
		lenient bool
		want    bool
	}{
		{"", false, true},
		{"room-1", false, true},
		{"room-1", true, true},
		// A literal brace counts as text an adapter's expand could change.
		{`a\{b\}`, false, false},
		{`a\{b\}`, true, false},
		{"{path.0}", false, false},
		{"x-{header.X-Room}", false, false},
		{"{query.room}", true, false},
		{"{http.request.uri}", true, false}, // the adapter may expand it
	}
	for _, tc := range cases {
		v, err := parseRequestValue(tc.value, tc.lenient)
		if err != nil {
			t.Fatalf("parseRequestValue(%q, %v): unexpected error: %v", tc.value, tc.lenient, err)
		}
		if got := v.IsFixed(); got != tc.want {
			t.Errorf("IsFixed(%q) parsed with lenient %v: expected %v, got %v", tc.value, tc.lenient, tc.want, got)
		}
	}
}

func TestRequestValueResolve(t *testing.T) {
	cases := []struct {
		value   string
		target  string
		headers []string
		want    string
	}{
		{"fixed-room", "/", nil, "fixed-room"},
		{"{path.0}", "/rooms/hello/join", nil, "rooms"},
		{"{path.1}", "/rooms/hello/join", nil, "hello"},
		{"{path.2}", "/rooms/hello/join", nil, "join"},
		{"{path.1}", "/rooms/hello/", nil, "hello"},
		{"{path.1}", "/rooms/h%C3%A9llo", nil, "héllo"},
		{"{header.X-Room}", "/", []string{"X-Room: hello"}, "hello"},
		{"{header.x-room}", "/", []string{"X-Room: hello"}, "hello"},
		{"{query.room}", "/?room=hello&x=1", nil, "hello"},
		{"{query.room}", "/?room=h%C3%A9llo+2", nil, "héllo 2"},
		{"team-{header.X-Team}-{path.1}", "/rooms/r1", []string{"X-Team: blue"}, "team-blue-r1"},
		{"{header.X-Room}", "/", []string{"X-Room: {path.0}"}, "{path.0}"},
	}
	for _, tc := range cases {
		v, err := ParseRequestValue(tc.value)
		if err != nil {
			t.Fatalf("ParseRequestValue(%q): unexpected error: %v", tc.value, err)
		}
		got, err := v.Resolve(newRequest(tc.target, tc.headers...), nil)
		if err != nil {
			t.Errorf("Resolve(%q) for %s: unexpected error: %v", tc.value, tc.target, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Resolve(%q) for %s: expected %q, got %q", tc.value, tc.target, tc.want, got)
		}
	}
}

func TestRequestValueResolveRequestTextNotExpanded(t *testing.T) {
	v, err := ParseRequestValueLenient("{header.X-Room}")
	if err != nil {
		t.Fatalf("ParseRequestValueLenient: unexpected error: %v", err)
	}
	called := false
	got, err := v.Resolve(newRequest("/", "X-Room: {http.request.header.Authorization}"), func(s string) string {
		called = true
		return "leaked"
	})
	if err != nil {
		t.Fatalf("Resolve: unexpected error: %v", err)
	}
	if called {
		t.Error("expand: expected no call for text from the request, got one")
	}
	if got != "{http.request.header.Authorization}" {
		t.Errorf("Resolve: expected the header text as it was, got %q", got)
	}
}

func TestRequestValueResolveMissing(t *testing.T) {
	cases := []struct {
		value   string
		target  string
		headers []string
		want    string
	}{
		{"{path.1}", "/rooms", nil, "request path has no segment 1"},
		{"{path.1}", "/rooms/", nil, "request path has no segment 1"},
		{"{path.1}", "/rooms//x", nil, "request path has no segment 1"},
		{"{path.0}", "/", nil, "request path has no segment 0"},
		{"{path.5}", "/a/b", nil, "request path has no segment 5"},
		{"{header.X-Room}", "/", nil, "request has no header X-Room"},
		{"{header.X-Room}", "/", []string{"X-Room: a", "X-Room: b"}, "request has header X-Room more than once"},
		{"{query.room}", "/?other=1", nil, "request has no query parameter room"},
		{"{query.room}", "/", nil, "request has no query parameter room"},
		{"{query.room}", "/?room=a&room=b", nil, "request has query parameter room more than once"},
		{"x-{query.room}", "/?room=a&room=a", nil, "more than once"},
	}
	for _, tc := range cases {
		v, err := ParseRequestValue(tc.value)
		if err != nil {
			t.Fatalf("ParseRequestValue(%q): unexpected error: %v", tc.value, err)
		}
		got, err := v.Resolve(newRequest(tc.target, tc.headers...), nil)
		if err == nil {
			t.Errorf("Resolve(%q) for %s: expected error %q, got %q", tc.value, tc.target, tc.want, got)
			continue
		}
		e := wantKind(t, err, ErrInvalidRequestValue)
		if e.Status != 400 {
			t.Errorf("status: expected 400, got %d", e.Status)
		}
		wantDescription(t, err, tc.want)
	}
}

func TestRequestValueEmptyHeaderValue(t *testing.T) {
	// An empty header is present, so Resolve returns it; callers decide
	// whether an empty value is acceptable.
	v, err := ParseRequestValue("{header.X-Room}")
	if err != nil {
		t.Fatalf("ParseRequestValue: unexpected error: %v", err)
	}
	got, err := v.Resolve(newRequest("/", "X-Room: "), nil)
	if err != nil {
		t.Fatalf("Resolve: unexpected error: %v", err)
	}
	if got != "" {
		t.Errorf("Resolve: expected an empty value, got %q", got)
	}
}
