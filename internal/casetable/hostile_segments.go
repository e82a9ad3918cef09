package casetable

import (
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

// segmentCases break the compact form: the number of segments, empty
// segments, stray dots and whitespace, padding, the standard base64
// alphabet, non-zero unused bits, percent-encoding and long segments. A
// compact JWS has exactly one encoding, so every variant of a valid token is
// rejected, except percent-encoding in a query, which HTTP decodes before
// the token is read.
func segmentCases() []Case {
	valid := func(now time.Time) (header, payload, signature string) {
		return segments(ValidToken(now))
	}
	token := func(build func(header, payload, signature string) string) func(time.Time) string {
		return func(now time.Time) string {
			return build(valid(now))
		}
	}
	cases := []Case{
		bearerCase(KindSegments, "segments: header only", token(func(h, p, s string) string {
			return h
		}), malformed()),
		bearerCase(KindSegments, "segments: header and payload", token(func(h, p, s string) string {
			return h + "." + p
		}), malformed()),
		bearerCase(KindSegments, "segments: four", token(func(h, p, s string) string {
			return h + "." + p + "." + s + "." + s
		}), malformed()),
		bearerCase(KindSegments, "segments: five, as a JWE", token(func(h, p, s string) string {
			return h + "." + p + "." + s + "." + p + "." + s
		}), malformed()),
		bearerCase(KindSegments, "segments: empty header signed", token(func(h, p, s string) string {
			return SignSegments(Key, "", p)
		}), malformed()),
		bearerCase(KindSegments, "segments: empty payload signed", token(func(h, p, s string) string {
			return SignSegments(Key, h, "")
		}), malformed()),
		bearerCase(KindSegments, "segments: empty signature", token(func(h, p, s string) string {
			return h + "." + p + "."
		}), invalidSignature()),
		bearerCase(KindSegments, "segments: only dots", func(time.Time) string {
			return ".."
		}, malformed()),
		bearerCase(KindSegments, "segments: leading dot", token(func(h, p, s string) string {
			return "." + h + "." + p + "." + s
		}), malformed()),
		bearerCase(KindSegments, "segments: trailing dot", token(func(h, p, s string) string {
			return h + "." + p + "." + s + "."
		}), malformed()),
		bearerCase(KindSegments, "segments: doubled dot", token(func(h, p, s string) string {
			return h + ".." + p + "." + s
		}), malformed()),
		bearerCase(KindSegments, "segments: padded signature", token(func(h, p, s string) string {
			return h + "." + p + "." + s + "="
		}), malformed()),
		bearerCase(KindSegments, "segments: padded payload signed", func(now time.Time) string {
			claims := rawValidPayload(now, `"n":1`)
			for len(claims)%3 == 0 {
				claims = strings.TrimSuffix(claims, "}") + ` }`
			}
			h, _, _ := segments(ValidToken(now))
			return SignSegments(Key, h, base64.URLEncoding.EncodeToString([]byte(claims)))
		}, malformed()),
		bearerCase(KindSegments, "segments: padded header signed", func(now time.Time) string {
			// 28 bytes, so the padded encoding ends in "==".
			header := base64.URLEncoding.EncodeToString([]byte(`{"alg":"HS256", "typ":"JWT"}`))
			return SignSegments(Key, header, b64.EncodeToString([]byte(validPayload(now))))
		}, malformed()),
		bearerCase(KindSegments, "segments: unpadded header with space", func(now time.Time) string {
			// The same header without padding is valid: the control case
			// for the padded one.
			return SignRaw(Key, `{"alg":"HS256", "typ":"JWT"}`, validPayload(now))
		}, accepted()),
		bearerCase(KindSegments, "segments: standard alphabet in signature", func(now time.Time) string {
			t := tokenWhere(now, func(t string) bool {
				_, _, s := segments(t)
				return strings.ContainsAny(s, "-_")
			})
			h, p, s := segments(t)
			return h + "." + p + "." + toStandardAlphabet(s)
		}, malformed()),
		bearerCase(KindSegments, "segments: standard alphabet in payload signed", func(now time.Time) string {
			t := tokenWhere(now, func(t string) bool {
				_, p, _ := segments(t)
				return strings.ContainsAny(p, "-_")
			})
			h, p, _ := segments(t)
			return SignSegments(Key, h, toStandardAlphabet(p))
		}, malformed()),
		bearerCase(KindSegments, "segments: unused bits set in signature", token(func(h, p, s string) string {
			return h + "." + p + "." + withTrailingBits(s)
		}), malformed()),
		bearerCase(KindSegments, "segments: unused bits set in payload signed", func(now time.Time) string {
			t := tokenWhere(now, func(t string) bool {
				_, p, _ := segments(t)
				return len(p)%4 != 0
			})
			h, p, _ := segments(t)
			return SignSegments(Key, h, withTrailingBits(p))
		}, malformed()),
		bearerCase(KindSegments, "segments: percent-encoded dots in Authorization", token(func(h, p, s string) string {
			return h + "%2E" + p + "%2E" + s
		}), malformed()),
		bearerCase(KindSegments, "segments: long header within the size limit", func(now time.Time) string {
			return SignRaw(Key, `{"alg":"HS256","typ":"JWT","kid":"`+strings.Repeat("k", 2500)+`"}`, validPayload(now))
		}, accepted()),
		bearerCase(KindSegments, "segments: long signature", token(func(h, p, s string) string {
			return h + "." + p + "." + s + strings.Repeat("A", 3000)
		}), invalidSignature()),
		bearerCase(KindSegments, "segments: signature of impossible length", token(func(h, p, s string) string {
			// 43 + 3002 characters: a length that no byte string encodes to.
			return h + "." + p + "." + s + strings.Repeat("A", 3002)
		}), malformed()),
		bearerCase(KindSegments, "segments: payload over the size limit", func(now time.Time) string {
			return Sign(Key, HS256Header, With(ValidClaims(now), map[string]any{"x": strings.Repeat("x", 4000)}))
		}, rejected(http.StatusUnauthorized, "token_too_large", "invalid_token")),
	}

	// Whitespace and percent-encoding reach the token only through a query,
	// because the Bearer syntax splits at whitespace and a header value
	// cannot carry a line break.
	inQuery := func(name string, build func(token string) string, expect Expect) Case {
		return Case{
			Name:   name,
			Kind:   KindSegments,
			Config: validateConfig(),
			Request: func(now time.Time) Request {
				t := ValidToken(now)
				return withToken(get("/rooms/standup?t="+build(t), nil), t)
			},
			Expect: expect,
		}
	}
	beforeLast := func(insert string) func(string) string {
		return func(t string) string {
			return t[:len(t)-1] + insert + t[len(t)-1:]
		}
	}
	cases = append(cases,
		inQuery("segments: space inside token in query", beforeLast("%20"), malformed()),
		inQuery("segments: plus inside token in query", beforeLast("+"), malformed()),
		inQuery("segments: trailing space in query", func(t string) string { return t + "%20" }, malformed()),
		inQuery("segments: leading space in query", func(t string) string { return "%20" + t }, malformed()),
		inQuery("segments: tab inside token in query", beforeLast("%09"), malformed()),
		inQuery("segments: line feed inside token in query", beforeLast("%0A"), malformed()),
		inQuery("segments: carriage return inside token in query", beforeLast("%0D"), malformed()),
		inQuery("segments: NUL inside token in query", beforeLast("%00"), malformed()),
		inQuery("segments: percent-encoded token in query", percentEncodeAll, accepted()),
		inQuery("segments: percent-encoding twice in query", func(t string) string {
			return strings.ReplaceAll(t, ".", "%252E")
		}, malformed()),
	)
	return cases
}
