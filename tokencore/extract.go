package tokencore

import (
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// Source kinds, as written in a source specification.
const (
	SourceBearer = "bearer" // the Authorization header with the Bearer scheme
	SourceHeader = "header" // "header:Name": the whole value of a header
	SourceQuery  = "query"  // "query:name": a query parameter
	SourceCookie = "cookie" // "cookie:name": a cookie
)

// DefaultSources are the token sources of a validating route unless
// configured: the Authorization header, then the query parameter t that Daily
// room URLs use.
var DefaultSources = []string{"bearer", "query:t"}

// Source is one place a token can be taken from.
type Source struct {
	Kind string // SourceBearer, SourceHeader, SourceQuery or SourceCookie
	Name string // header, query parameter or cookie name; empty for SourceBearer
}

// String returns the source in the syntax ParseSource reads.
func (s Source) String() string {
	if s.Kind == SourceBearer {
		return s.Kind
	}
	return s.Kind + ":" + s.Name
}

// ParseSource parses "bearer", "header:Name", "query:name" or "cookie:name".
func ParseSource(spec string) (Source, error) {
	kind, name, _ := strings.Cut(strings.TrimSpace(spec), ":")
	kind = strings.ToLower(kind)
	switch kind {
	case SourceBearer:
		if name != "" {
			return Source{}, fmt.Errorf("token source %q: bearer takes no name", spec)
		}
		return Source{Kind: kind}, nil
	case SourceHeader:
		if name == "" {
			return Source{}, fmt.Errorf("token source %q: missing header name", spec)
		}
		return Source{Kind: kind, Name: textproto.CanonicalMIMEHeaderKey(name)}, nil
	case SourceQuery, SourceCookie:
		if name == "" {
			return Source{}, fmt.Errorf("token source %q: missing %s name", spec, kind)
		}
		return Source{Kind: kind, Name: name}, nil
	}
	return Source{}, fmt.Errorf("token source %q: unknown kind %q, expected bearer, header:Name, query:name or cookie:name", spec, kind)
}

// Extractor takes a token from a request. It looks in every configured
// source: the token must be the same wherever it appears, so a client cannot
// show one token to this proxy and another to the upstream.
type Extractor struct {
	sources      []Source
	maxTokenSize int

	// The common request carries one "Bearer <token>" header and nothing in
	// the other sources. When no other source is a header, quickBearer lets
	// Extract take that token with a few comparisons, because under Yaegi
	// the general path costs several times more.
	quickBearer   bool
	hasQuery      bool
	hasCookie     bool
	bearerSources []Source
}

// NewExtractor returns an Extractor for the source specifications, or for
// DefaultSources if there are none. A candidate longer than maxTokenSize bytes
// is rejected before any other work; zero means DefaultMaxTokenSize.
func NewExtractor(specs []string, maxTokenSize int) (*Extractor, error) {
	if len(specs) == 0 {
		specs = DefaultSources
	}
	if maxTokenSize <= 0 {
		maxTokenSize = DefaultMaxTokenSize
	}

	e := &Extractor{maxTokenSize: maxTokenSize}
	seen := map[string]bool{}
	for _, spec := range specs {
		source, err := ParseSource(spec)
		if err != nil {
			return nil, err
		}
		if seen[source.String()] {
			return nil, fmt.Errorf("token source %q is listed twice", spec)
		}
		seen[source.String()] = true
		e.sources = append(e.sources, source)
	}

	e.quickBearer = seen[SourceBearer]
	for _, source := range e.sources {
		switch source.Kind {
		case SourceHeader:
			e.quickBearer = false
		case SourceQuery:
			e.hasQuery = true
		case SourceCookie:
			e.hasCookie = true
		}
	}
	e.bearerSources = []Source{{Kind: SourceBearer}}
	return e, nil
}

// Sources returns the configured sources in order.
func (e *Extractor) Sources() []Source {
	return append([]Source(nil), e.sources...)
}

// Extraction is a token found in a request and the sources it was found in.
type Extraction struct {
	Token   string
	Sources []Source
}

// Extract returns the token in r. It fails with ErrMissingToken if no source
// has one, ErrAmbiguousToken if two places carry different tokens, and
// ErrTokenTooLarge if a candidate exceeds the size limit.
func (e *Extractor) Extract(r *http.Request) (*Extraction, error) {
	if e.quickBearer {
		if token, ok := e.quickBearerToken(r); ok {
			return &Extraction{Token: token, Sources: e.bearerSources}, nil
		}
	}

	x := &Extraction{}
	for _, source := range e.sources {
		candidates, err := e.candidates(r, source)
		if err != nil {
			return nil, err
		}
		for _, token := range candidates {
			if len(token) > e.maxTokenSize {
				return nil, errorf(ErrTokenTooLarge, "token in %s is %d bytes, over the limit of %d", source.String(), len(token), e.maxTokenSize)
			}
			if x.Token != "" && token != x.Token {
				return nil, errorf(ErrAmbiguousToken, "the request carries different tokens (checked %s)", source.String())
			}
			x.Token = token
		}
		if len(candidates) > 0 {
			x.Sources = append(x.Sources, source)
		}
	}

	if x.Token == "" {
		return nil, errorf(ErrMissingToken, "no meeting token in %s", e.describeSources())
	}
	return x, nil
}

// quickBearerToken returns the token of a request whose only candidate is
// one Authorization value of the form "Bearer <token>", as the general path
// would. ok is false for any other request, which the general path decides.
func (e *Extractor) quickBearerToken(r *http.Request) (token string, ok bool) {
	if (e.hasQuery && r.URL.RawQuery != "") || (e.hasCookie && len(r.Header["Cookie"]) > 0) {
		return "", false
	}
	values := r.Header["Authorization"]
	if len(values) != 1 {
		return "", false
	}
	value := values[0]
	if len(value) <= len("Bearer ") || len(value) > len("Bearer ")+e.maxTokenSize || value[:len("Bearer ")] != "Bearer " {
		return "", false
	}
	token = value[len("Bearer "):]
	if strings.IndexByte(token, ' ') >= 0 || strings.IndexByte(token, '\t') >= 0 || strings.IndexByte(token, ',') >= 0 {
		return "", false
	}
	return token, true
}

func (e *Extractor) describeSources() string {
	names := make([]string, len(e.sources))
	for i, source := range e.sources {
		names[i] = source.String()
	}
	return strings.Join(names, ", ")
}

// candidates returns every token value source has in r.
func (e *Extractor) candidates(r *http.Request, source Source) ([]string, error) {
	switch source.Kind {
	case SourceBearer:
		var tokens []string
		for _, value := range r.Header.Values("Authorization") {
			if len(value) > e.maxTokenSize+len("Bearer ") {
				return nil, errorf(ErrTokenTooLarge, "Authorization header is %d bytes, over the token limit of %d", len(value), e.maxTokenSize)
			}
			token, isBearer, err := parseBearer(value)
			if err != nil {
				return nil, err
			}
			if isBearer {
				tokens = append(tokens, token)
			}
		}
		return tokens, nil

	case SourceHeader:
		var tokens []string
		for _, value := range r.Header.Values(source.Name) {
			value = strings.TrimSpace(value)
			if value != "" {
				tokens = append(tokens, value)
			}
		}
		return tokens, nil

	case SourceQuery:
		if r.URL.RawQuery == "" {
			return nil, nil
		}
		var tokens []string
		for _, value := range r.URL.Query()[source.Name] {
			if value != "" {
				tokens = append(tokens, value)
			}
		}
		return tokens, nil

	case SourceCookie:
		var tokens []string
		for _, cookie := range r.Cookies() {
			if cookie.Name == source.Name && cookie.Value != "" {
				tokens = append(tokens, cookie.Value)
			}
		}
		return tokens, nil
	}
	return nil, nil
}

// parseBearer reads an Authorization value. The scheme is case-insensitive
// (RFC 9110 section 11.1) and may be followed by several spaces. Any other
// scheme, such as Basic, is not a bearer token and is skipped.
func parseBearer(value string) (token string, isBearer bool, err error) {
	value = strings.TrimLeft(value, " \t")
	scheme, rest, found := strings.Cut(value, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false, nil
	}
	if !found {
		return "", false, errorf(ErrMalformedToken, "Authorization header has the Bearer scheme and no token")
	}
	token = strings.Trim(rest, " \t")
	if token == "" {
		return "", false, errorf(ErrMalformedToken, "Authorization header has the Bearer scheme and no token")
	}
	// IndexByte, unlike ContainsAny, scans with vector instructions.
	if strings.IndexByte(token, ' ') >= 0 || strings.IndexByte(token, '\t') >= 0 || strings.IndexByte(token, ',') >= 0 {
		return "", false, errorf(ErrMalformedToken, "Authorization Bearer value is not a single token")
	}
	return token, true, nil
}

// Strip removes the token from every source it was found in, and leaves the
// rest of the request as it was: other Authorization values, other query
// parameters in their order and encoding, and other cookies.
func (e *Extractor) Strip(r *http.Request, x *Extraction) {
	for _, source := range x.Sources {
		switch source.Kind {
		case SourceBearer:
			var kept []string
			for _, value := range r.Header.Values("Authorization") {
				if _, isBearer, _ := parseBearer(value); !isBearer {
					kept = append(kept, value)
				}
			}
			setOrDelete(r.Header, "Authorization", kept)
		case SourceHeader:
			r.Header.Del(source.Name)
		case SourceQuery:
			r.URL.RawQuery = removeQueryParam(r.URL.RawQuery, source.Name)
			r.RequestURI = r.URL.RequestURI()
		case SourceCookie:
			var kept []string
			for _, line := range r.Header.Values("Cookie") {
				if rest := removeCookie(line, source.Name); rest != "" {
					kept = append(kept, rest)
				}
			}
			setOrDelete(r.Header, "Cookie", kept)
		}
	}
}

func setOrDelete(h http.Header, name string, values []string) {
	if len(values) == 0 {
		h.Del(name)
		return
	}
	h[textproto.CanonicalMIMEHeaderKey(name)] = values
}

// removeQueryParam drops every name=value pair whose decoded name is name and
// keeps the other pairs byte for byte.
func removeQueryParam(rawQuery, name string) string {
	pairs := strings.Split(rawQuery, "&")
	kept := pairs[:0]
	for _, pair := range pairs {
		key, _, _ := strings.Cut(pair, "=")
		if decoded, err := url.QueryUnescape(key); err == nil && decoded == name {
			continue
		}
		kept = append(kept, pair)
	}
	return strings.Join(kept, "&")
}

// removeCookie drops the cookie named name from one Cookie header line and
// keeps the others as they were written. Like net/http, it ignores spaces
// around a cookie name, so "tok =x" is the cookie tok.
func removeCookie(line, name string) string {
	parts := strings.Split(line, ";")
	kept := parts[:0]
	for _, part := range parts {
		cookieName, _, _ := strings.Cut(strings.TrimSpace(part), "=")
		if textproto.TrimString(cookieName) == name {
			continue
		}
		kept = append(kept, strings.TrimSpace(part))
	}
	return strings.Join(kept, "; ")
}
