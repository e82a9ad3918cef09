package tokencore

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// RequestValue is a configured value that may take parts from the request:
// fixed text with placeholders in braces.
//
//	{path.N}       the Nth segment of the URL path, counting from 0 ("/rooms/a" has rooms at 0)
//	{header.Name}  the value of a request header
//	{query.name}   the value of a query parameter
//
// A literal brace is written \{ or \}. Both adapters use this syntax; the
// Caddy module also expands Caddy's placeholders in the fixed text, because a
// placeholder unknown to this package is kept as text when the value is
// parsed with ParseRequestValueLenient.
//
// A resolved value is never parsed again, so text the client sent cannot
// name a placeholder.
type RequestValue struct {
	source string
	parts  []valuePart
}

type valuePart struct {
	literal string // fixed text, when source is empty
	source  string // "path", "header" or "query"
	name    string // header or query parameter name
	index   int    // path segment index
}

// ParseRequestValue parses s and rejects a placeholder it does not know.
func ParseRequestValue(s string) (*RequestValue, error) {
	return parseRequestValue(s, false)
}

// ParseRequestValueLenient parses s and keeps a placeholder it does not know,
// braces included, as fixed text, for an adapter to expand.
func ParseRequestValueLenient(s string) (*RequestValue, error) {
	return parseRequestValue(s, true)
}

func parseRequestValue(s string, lenient bool) (*RequestValue, error) {
	v := &RequestValue{source: s}
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			v.parts = append(v.parts, valuePart{literal: text.String()})
			text.Reset()
		}
	}

	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch == '\\' && i+1 < len(s) && (s[i+1] == '{' || s[i+1] == '}') {
			if lenient {
				// Keep the escape for the adapter's own placeholder syntax.
				text.WriteByte(ch)
			}
			text.WriteByte(s[i+1])
			i++
			continue
		}
		if ch != '{' {
			text.WriteByte(ch)
			continue
		}

		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return nil, fmt.Errorf("value %q: unclosed '{' at offset %d", s, i)
		}
		placeholder := s[i+1 : i+end]
		part, known, err := parsePlaceholder(placeholder)
		if err != nil {
			return nil, fmt.Errorf("value %q: %v", s, err)
		}
		if !known {
			if !lenient {
				return nil, fmt.Errorf("value %q: unknown placeholder {%s}, expected {path.N}, {header.Name} or {query.name}", s, placeholder)
			}
			text.WriteString(s[i : i+end+1])
		} else {
			flush()
			v.parts = append(v.parts, part)
		}
		i += end
	}
	flush()
	return v, nil
}

// parsePlaceholder parses the text between braces. known is false for a
// placeholder of another syntax.
func parsePlaceholder(p string) (valuePart, bool, error) {
	source, name, found := strings.Cut(p, ".")
	if !found {
		return valuePart{}, false, nil
	}
	switch source {
	case "path":
		n, err := strconv.Atoi(name)
		if err != nil || n < 0 {
			return valuePart{}, false, fmt.Errorf("placeholder {%s}: path segment index must be a non-negative integer", p)
		}
		return valuePart{source: source, index: n}, true, nil
	case "header", "query":
		if name == "" {
			return valuePart{}, false, fmt.Errorf("placeholder {%s}: missing %s name", p, source)
		}
		return valuePart{source: source, name: name}, true, nil
	}
	return valuePart{}, false, nil
}

// String returns the value as configured.
func (v *RequestValue) String() string {
	return v.source
}

// IsFixed reports whether the value takes nothing from the request and has
// no text an adapter could expand.
func (v *RequestValue) IsFixed() bool {
	for _, part := range v.parts {
		if part.source != "" || strings.ContainsRune(part.literal, '{') {
			return false
		}
	}
	return true
}

// Resolve returns the value for request r. expand, if not nil, expands the
// adapter's placeholders in fixed text; it is never applied to text from the
// request. A missing header, query parameter or path segment, or one given
// more than once, is an ErrInvalidRequestValue.
func (v *RequestValue) Resolve(r *http.Request, expand func(string) string) (string, error) {
	if len(v.parts) == 1 && v.parts[0].source == "" {
		return expandText(v.parts[0].literal, expand), nil
	}

	var out strings.Builder
	for _, part := range v.parts {
		switch part.source {
		case "":
			out.WriteString(expandText(part.literal, expand))
		case "path":
			segment, err := pathSegment(r, part.index)
			if err != nil {
				return "", err
			}
			out.WriteString(segment)
		case "header":
			values := r.Header.Values(part.name)
			if len(values) == 0 {
				return "", errorf(ErrInvalidRequestValue, "request has no header %s", part.name)
			}
			if len(values) > 1 {
				return "", errorf(ErrInvalidRequestValue, "request has header %s more than once", part.name)
			}
			out.WriteString(values[0])
		case "query":
			values := r.URL.Query()[part.name]
			if len(values) == 0 {
				return "", errorf(ErrInvalidRequestValue, "request has no query parameter %s", part.name)
			}
			if len(values) > 1 {
				return "", errorf(ErrInvalidRequestValue, "request has query parameter %s more than once", part.name)
			}
			out.WriteString(values[0])
		}
	}
	return out.String(), nil
}

func expandText(s string, expand func(string) string) string {
	if expand == nil || !strings.ContainsRune(s, '{') {
		return s
	}
	return expand(s)
}

// pathSegment returns the index-th segment of r's decoded URL path.
func pathSegment(r *http.Request, index int) (string, error) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	for i := 0; i < index; i++ {
		slash := strings.IndexByte(path, '/')
		if slash < 0 {
			return "", errorf(ErrInvalidRequestValue, "request path has no segment %d", index)
		}
		path = path[slash+1:]
	}
	if slash := strings.IndexByte(path, '/'); slash >= 0 {
		path = path[:slash]
	}
	if path == "" {
		return "", errorf(ErrInvalidRequestValue, "request path has no segment %d", index)
	}
	return path, nil
}
