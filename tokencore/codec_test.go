package tokencore

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func TestCodecSignVerifyRoundTrip(t *testing.T) {
	codec := mustCodec(t, testKey)
	payloads := []string{
		`{}`,
		`{"r":"hello","exp":1864081538}`,
		`{"r":"room-0253","d":"25df5057-ef0d-4d97-bde6-0cf287276cbb","iat":1548722207}`,
		`{"u":"Zoë ☃ \u0000 \"quoted\"","p":{"hp":true,"cs":"v,a"}}`,
		`{"x":"` + strings.Repeat("y", 1000) + `"}`,
	}
	for _, payload := range payloads {
		token := codec.Sign([]byte(payload))

		segments := strings.Split(token, ".")
		if len(segments) != 3 {
			t.Fatalf("Sign(%s): expected 3 segments, got %d", payload, len(segments))
		}
		if segments[0] != encodeSegment([]byte(`{"alg":"HS256","typ":"JWT"}`)) {
			t.Errorf("Sign(%s): expected the header {\"alg\":\"HS256\",\"typ\":\"JWT\"}, got segment %s", payload, segments[0])
		}
		if want := hs256(testKey, segments[0]+"."+segments[1]); segments[2] != want {
			t.Errorf("Sign(%s): expected the HMAC-SHA256 signature %s, got %s", payload, want, segments[2])
		}

		got, err := codec.Verify(token)
		if err != nil {
			t.Fatalf("Verify(Sign(%s)): unexpected error: %v", payload, err)
		}
		if string(got) != payload {
			t.Errorf("Verify(Sign(p)): expected payload %s, got %s", payload, got)
		}
	}
}

func TestCodecVerifyIndependentlySignedToken(t *testing.T) {
	codec := mustCodec(t, testKey)
	payload := `{"r":"hello","exp":1864081538}`
	token := signPayload(testKey, payload)

	got, err := codec.Verify(token)
	if err != nil {
		t.Fatalf("Verify: unexpected error: %v", err)
	}
	if string(got) != payload {
		t.Errorf("Verify: expected payload %s, got %s", payload, got)
	}
}

func TestCodecVerifySegmentCount(t *testing.T) {
	codec := mustCodec(t, testKey)
	valid := signPayload(testKey, `{"exp":1864081538}`)
	segments := strings.Split(valid, ".")

	cases := []struct {
		name  string
		token string
		want  string
	}{
		{"empty", "", "1 segment"},
		{"one segment", segments[0], "1 segment"},
		{"two segments", segments[0] + "." + segments[1], "2 segments"},
		{"four segments", valid + "." + segments[2], "more than 3 segments"},
		{"trailing dot", valid + ".", "more than 3 segments"},
		{"only dots", "..", ""},
		{"five dots", ".....", "more than 3 segments"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := codec.Verify(tc.token)
			wantKind(t, err, ErrMalformedToken)
			if tc.want != "" {
				wantDescription(t, err, tc.want)
			}
		})
	}
}

// findSegment returns the first candidate(i) and its encoding where the encoding
// satisfies ok, so that a test can rely on a character being present.
func findSegment(t *testing.T, candidate func(i int) string, ok func(encoded string) bool) (string, string) {
	t.Helper()
	for i := 0; i < 10000; i++ {
		plain := candidate(i)
		encoded := encodeSegment([]byte(plain))
		if ok(encoded) {
			return plain, encoded
		}
	}
	t.Fatal("findSegment: no candidate matched")
	return "", ""
}

// setTrailingBits returns the segment with the unused low bits of its last
// character set, so it decodes to the same bytes only in a lenient decoder.
func setTrailingBits(t *testing.T, segment string) string {
	t.Helper()
	if len(segment)%4 != 2 && len(segment)%4 != 3 {
		t.Fatalf("setTrailingBits: segment length %d has no unused bits", len(segment))
	}
	last := strings.IndexByte(base64URLAlphabet, segment[len(segment)-1])
	return segment[:len(segment)-1] + string(base64URLAlphabet[last|1])
}

func TestCodecVerifyStrictBase64URL(t *testing.T) {
	codec := mustCodec(t, testKey)
	header := encodeSegment([]byte(`{"alg":"HS256","typ":"JWT"}`))

	// Payloads whose encodings contain the characters a mutation needs.
	_, urlPayload := findSegment(t,
		func(i int) string { return fmt.Sprintf(`{"r":"room-%d","u":"~~~>>>???"}`, i) },
		func(s string) bool { return strings.ContainsAny(s, "-_") })
	_, oddPayload := findSegment(t,
		func(i int) string { return fmt.Sprintf(`{"r":"room-%d"}`, i) },
		func(s string) bool { return len(s)%4 == 2 || len(s)%4 == 3 })
	_, paddablePayload := findSegment(t,
		func(i int) string { return fmt.Sprintf(`{"r":"%s"}`, strings.Repeat("x", i)) },
		func(s string) bool { return len(s)%4 == 3 })
	signedWithDash := findSignature(t, func(s string) bool { return strings.ContainsAny(s, "-_") })

	toStandard := strings.NewReplacer("-", "+", "_", "/")
	cases := []struct {
		name  string
		token string
	}{
		// Each mutated signing input is signed again, so only the encoding is at fault.
		{"padding on payload", signSegments(testKey, header, paddablePayload+"=")},
		{"padding on signature", signPayload(testKey, `{"r":"a"}`) + "="},
		{"padding on header", signSegments(testKey, header+"==", urlPayload)},
		{"standard alphabet in payload", signSegments(testKey, header, toStandard.Replace(urlPayload))},
		{"standard alphabet in signature", toStandard.Replace(signedWithDash)},
		{"non-zero trailing bits in payload", signSegments(testKey, header, setTrailingBits(t, oddPayload))},
		{"non-zero trailing bits in signature", withSignature(signPayload(testKey, `{"r":"a"}`), func(s string) string { return setTrailingBits(t, s) })},
		{"LF inside payload", signSegments(testKey, header, oddPayload[:4]+"\n"+oddPayload[4:])},
		{"CR LF inside header", signSegments(testKey, header[:8]+"\r\n"+header[8:], oddPayload)},
		{"LF after signature", signPayload(testKey, `{"r":"a"}`) + "\n"},
		{"CR inside signature", withSignature(signPayload(testKey, `{"r":"a"}`), func(s string) string { return s[:10] + "\r" + s[10:] })},
		{"space inside payload", signSegments(testKey, header, oddPayload[:4]+" "+oddPayload[4:])},
		{"leading space", " " + signPayload(testKey, `{"r":"a"}`)},
		{"trailing space", signPayload(testKey, `{"r":"a"}`) + " "},
		{"tab inside signature", withSignature(signPayload(testKey, `{"r":"a"}`), func(s string) string { return s[:10] + "\t" + s[10:] })},
		{"percent-encoded character", signSegments(testKey, header, oddPayload[:4]+"%41"+oddPayload[4:])},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := codec.Verify(tc.token)
			wantKind(t, err, ErrMalformedToken)
		})
	}
}

// findSignature returns a token whose signature segment satisfies ok.
func findSignature(t *testing.T, ok func(signature string) bool) string {
	t.Helper()
	for i := 0; i < 10000; i++ {
		token := signPayload(testKey, fmt.Sprintf(`{"r":"room-%d"}`, i))
		if ok(token[strings.LastIndexByte(token, '.')+1:]) {
			return token
		}
	}
	t.Fatal("findSignature: no candidate matched")
	return ""
}

// withSignature returns token with its signature segment replaced by
// change(signature).
func withSignature(token string, change func(string) string) string {
	dot := strings.LastIndexByte(token, '.')
	return token[:dot+1] + change(token[dot+1:])
}

func TestCodecVerifyHeaderRejected(t *testing.T) {
	codec := mustCodec(t, testKey)
	payload := encodeSegment([]byte(`{"r":"hello","exp":1864081538}`))

	headers := []struct {
		name   string
		header string
		want   *Error
	}{
		{"alg none", `{"alg":"none","typ":"JWT"}`, ErrUnsupportedAlg},
		{"alg none without typ", `{"alg":"none"}`, ErrUnsupportedAlg},
		{"alg HS512", `{"alg":"HS512","typ":"JWT"}`, ErrUnsupportedAlg},
		{"alg HS384", `{"alg":"HS384","typ":"JWT"}`, ErrUnsupportedAlg},
		{"alg RS256", `{"alg":"RS256","typ":"JWT"}`, ErrUnsupportedAlg},
		{"alg ES256", `{"alg":"ES256","typ":"JWT"}`, ErrUnsupportedAlg},
		{"alg lower case hs256", `{"alg":"hs256","typ":"JWT"}`, ErrUnsupportedAlg},
		{"alg with space", `{"alg":"HS256 ","typ":"JWT"}`, ErrUnsupportedAlg},
		{"alg escaped", `{"alg":"HS\u0032\u0035\u0036","typ":"JWT"}`, ErrUnsupportedAlg},
		{"alg missing", `{"typ":"JWT"}`, ErrUnsupportedAlg},
		{"alg as number", `{"alg":256,"typ":"JWT"}`, ErrUnsupportedAlg},
		{"alg as list", `{"alg":["HS256"],"typ":"JWT"}`, ErrUnsupportedAlg},
		{"alg null", `{"alg":null,"typ":"JWT"}`, ErrUnsupportedAlg},
		{"alg repeated with none last", `{"alg":"HS256","alg":"none"}`, ErrUnsupportedAlg},
		{"crit present", `{"alg":"HS256","typ":"JWT","crit":["exp"]}`, ErrMalformedToken},
		{"crit empty", `{"alg":"HS256","crit":[]}`, ErrMalformedToken},
		{"typ JWS", `{"alg":"HS256","typ":"JWS"}`, ErrMalformedToken},
		{"typ empty", `{"alg":"HS256","typ":""}`, ErrMalformedToken},
		{"typ as number", `{"alg":"HS256","typ":1}`, ErrMalformedToken},
		{"header is a list", `["HS256"]`, ErrMalformedToken},
		{"header is a string", `"HS256"`, ErrMalformedToken},
		{"header is null", `null`, ErrMalformedToken},
		{"header is not JSON", `alg=HS256`, ErrMalformedToken},
		{"header is empty", ``, ErrMalformedToken},
	}
	signatures := []struct {
		name string
		sign func(input string) string
	}{
		{"HS256 signature with the key", func(input string) string { return hs256(testKey, input) }},
		{"HS512 signature with the key", func(input string) string {
			mac := hmac.New(sha512.New, testKey)
			mac.Write([]byte(input))
			return encodeSegment(mac.Sum(nil))
		}},
		{"empty signature", func(string) string { return "" }},
		{"zero signature", func(string) string { return encodeSegment(make([]byte, sha256.Size)) }},
	}

	for _, h := range headers {
		for _, s := range signatures {
			t.Run(h.name+"/"+s.name, func(t *testing.T) {
				input := encodeSegment([]byte(h.header)) + "." + payload
				token := input + "." + s.sign(input)

				got, err := codec.Verify(token)
				if got != nil {
					t.Errorf("Verify: expected no payload, got %s", got)
				}
				wantKind(t, err, h.want)
			})
		}
	}
}

func TestCodecVerifyHeaderAccepted(t *testing.T) {
	codec := mustCodec(t, testKey)
	headers := []string{
		`{"alg":"HS256","typ":"JWT"}`,
		`{"alg":"HS256"}`,
		`{"typ":"JWT","alg":"HS256"}`,
		`{"alg":"HS256","typ":"jwt"}`,
		` { "alg" : "HS256" , "typ" : "JWT" } `,
		`{"alg":"HS256","typ":"JWT","kid":"key-2"}`,
	}
	for _, header := range headers {
		token := signRaw(testKey, header, `{"r":"hello"}`)
		payload, err := codec.Verify(token)
		if err != nil {
			t.Errorf("Verify with header %s: unexpected error: %v", header, err)
			continue
		}
		if string(payload) != `{"r":"hello"}` {
			t.Errorf("Verify with header %s: expected payload {\"r\":\"hello\"}, got %s", header, payload)
		}
	}
}

func TestCodecVerifySignatureLength(t *testing.T) {
	codec := mustCodec(t, testKey)
	input := encodeSegment([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + encodeSegment([]byte(`{"r":"a"}`))
	full := hmac.New(sha256.New, testKey)
	full.Write([]byte(input))
	sum := full.Sum(nil)

	cases := []struct {
		name      string
		signature []byte
		want      string
	}{
		{"empty", nil, "0 bytes"},
		{"one byte", sum[:1], "1 bytes"},
		{"truncated to 31 bytes", sum[:31], "31 bytes"},
		{"one byte appended", append(append([]byte(nil), sum...), 0), "33 bytes"},
		{"doubled to 64 bytes", append(append([]byte(nil), sum...), sum...), "64 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := codec.Verify(input + "." + encodeSegment(tc.signature))
			wantKind(t, err, ErrInvalidSignature)
			wantDescription(t, err, tc.want, "expected 32")
		})
	}
}

func TestCodecVerifyWrongKey(t *testing.T) {
	codec := mustCodec(t, testKey)
	token := signPayload([]byte("another-api-key"), `{"r":"hello"}`)

	_, err := codec.Verify(token)
	wantKind(t, err, ErrInvalidSignature)
}

func TestCodecVerifyTamperedPayload(t *testing.T) {
	codec := mustCodec(t, testKey)
	token := signPayload(testKey, `{"r":"hello","o":false}`)
	segments := strings.Split(token, ".")
	segments[1] = encodeSegment([]byte(`{"r":"hello","o":true}`))

	_, err := codec.Verify(strings.Join(segments, "."))
	wantKind(t, err, ErrInvalidSignature)
}

func TestCodecKeyRotation(t *testing.T) {
	newKey := []byte("new-api-key-after-rotation")
	oldKey := []byte("old-api-key-before-rotation")
	codec := mustCodec(t, newKey, oldKey)

	for _, key := range [][]byte{newKey, oldKey} {
		token := signPayload(key, `{"r":"hello"}`)
		if _, err := codec.Verify(token); err != nil {
			t.Errorf("Verify of a token signed with key %q: unexpected error: %v", key, err)
		}
	}

	_, err := codec.Verify(signPayload([]byte("unrelated-key"), `{"r":"hello"}`))
	wantKind(t, err, ErrInvalidSignature)

	signed := codec.Sign([]byte(`{"r":"hello"}`))
	if _, err := mustCodec(t, newKey).Verify(signed); err != nil {
		t.Errorf("a token signed by the rotating codec: expected it to verify with the first key, got %v", err)
	}
	if _, err := mustCodec(t, oldKey).Verify(signed); err == nil {
		t.Error("a token signed by the rotating codec: expected the second key to reject it, got nil")
	}
}

// tokenOfLength returns a token of exactly n bytes, or fails the test.
func tokenOfLength(t *testing.T, n int) string {
	t.Helper()
	for filler := 0; filler < n; filler++ {
		token := signPayload(testKey, `{"x":"`+strings.Repeat("a", filler)+`"}`)
		if len(token) == n {
			return token
		}
		if len(token) > n {
			break
		}
	}
	// Some lengths are unreachable with one filler; a second field shifts the encoding.
	for filler := 0; filler < n; filler++ {
		token := signPayload(testKey, `{"x":"`+strings.Repeat("a", filler)+`","y":1}`)
		if len(token) == n {
			return token
		}
	}
	t.Fatalf("tokenOfLength: no token of %d bytes", n)
	return ""
}

func TestCodecSizeLimitDefault(t *testing.T) {
	codec := mustCodec(t, testKey)
	if got := codec.MaxTokenSize(); got != DefaultMaxTokenSize {
		t.Fatalf("MaxTokenSize: expected %d, got %d", DefaultMaxTokenSize, got)
	}
	if DefaultMaxTokenSize != 4096 {
		t.Errorf("DefaultMaxTokenSize: expected 4096, got %d", DefaultMaxTokenSize)
	}

	for _, n := range []int{2048, DefaultMaxTokenSize} {
		if _, err := codec.Verify(tokenOfLength(t, n)); err != nil {
			t.Errorf("Verify of a %d-byte token: unexpected error: %v", n, err)
		}
	}

	_, err := codec.Verify(tokenOfLength(t, DefaultMaxTokenSize+1))
	wantKind(t, err, ErrTokenTooLarge)
	wantDescription(t, err, "4097 bytes", "limit of 4096")

	// The limit is checked before anything else, so garbage gets the same response.
	_, err = codec.Verify(strings.Repeat("!", 100*1024))
	wantKind(t, err, ErrTokenTooLarge)
}

func TestCodecSizeLimitConfigured(t *testing.T) {
	token := tokenOfLength(t, 200)

	atLimit, err := NewCodec([][]byte{testKey}, 200)
	if err != nil {
		t.Fatalf("NewCodec: unexpected error: %v", err)
	}
	if got := atLimit.MaxTokenSize(); got != 200 {
		t.Errorf("MaxTokenSize: expected 200, got %d", got)
	}
	if _, err := atLimit.Verify(token); err != nil {
		t.Errorf("Verify of a token at the limit: unexpected error: %v", err)
	}

	belowLimit, err := NewCodec([][]byte{testKey}, 199)
	if err != nil {
		t.Fatalf("NewCodec: unexpected error: %v", err)
	}
	_, err = belowLimit.Verify(token)
	wantKind(t, err, ErrTokenTooLarge)
	wantDescription(t, err, "200 bytes", "limit of 199")

	large, err := NewCodec([][]byte{testKey}, 16*1024)
	if err != nil {
		t.Fatalf("NewCodec: unexpected error: %v", err)
	}
	if _, err := large.Verify(tokenOfLength(t, 10000)); err != nil {
		t.Errorf("Verify of a 10000-byte token with a 16 KiB limit: unexpected error: %v", err)
	}

	if _, err := NewCodec([][]byte{testKey}, -1); err == nil {
		t.Error("NewCodec with a negative size limit: expected an error, got nil")
	}
}

func TestCodecKeyLengths(t *testing.T) {
	for _, n := range []int{1, 17, 32, 64, 65, 200} {
		t.Run(fmt.Sprintf("%d bytes", n), func(t *testing.T) {
			key := bytes.Repeat([]byte{byte(n)}, n)
			codec := mustCodec(t, key)

			token := codec.Sign([]byte(`{"r":"hello"}`))
			if want := signPayload(key, `{"r":"hello"}`); token != want {
				t.Errorf("Sign: expected %s, got %s", want, token)
			}
			if _, err := codec.Verify(token); err != nil {
				t.Errorf("Verify: unexpected error: %v", err)
			}
			_, err := codec.Verify(signPayload(append(key, 'x'), `{"r":"hello"}`))
			wantKind(t, err, ErrInvalidSignature)
		})
	}
}

func TestNewCodecRejectsMissingOrEmptyKey(t *testing.T) {
	cases := []struct {
		name string
		keys [][]byte
		want string
	}{
		{"no keys", nil, "no key configured"},
		{"empty key list", [][]byte{}, "no key configured"},
		{"only key empty", [][]byte{{}}, "key 1 of 1 is empty"},
		{"second key empty", [][]byte{testKey, nil}, "key 2 of 2 is empty"},
		{"third key empty", [][]byte{testKey, testKey, []byte("")}, "key 3 of 3 is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			codec, err := NewCodec(tc.keys, 0)
			if err == nil {
				t.Fatalf("NewCodec: expected error %q, got a codec", tc.want)
			}
			if codec != nil {
				t.Errorf("NewCodec: expected no codec with the error, got %v", codec)
			}
			if err.Error() != tc.want {
				t.Errorf("NewCodec: expected error %q, got %q", tc.want, err)
			}
		})
	}
}

func TestNewCodecCopiesKeys(t *testing.T) {
	key := append([]byte(nil), testKey...)
	codec := mustCodec(t, key)
	for i := range key {
		key[i] = 0
	}

	if _, err := codec.Verify(signPayload(testKey, `{"r":"hello"}`)); err != nil {
		t.Errorf("Verify after the caller changed its key slice: unexpected error: %v", err)
	}
}

func TestCodecVerifyPayloadNotBase64(t *testing.T) {
	codec := mustCodec(t, testKey)
	header := encodeSegment([]byte(`{"alg":"HS256","typ":"JWT"}`))

	_, err := codec.Verify(signSegments(testKey, header, "e30*"))
	wantKind(t, err, ErrMalformedToken)
	wantDescription(t, err, "payload is not base64url")
}

func TestCodecVerifyErrorsNeverContainToken(t *testing.T) {
	codec := mustCodec(t, testKey)
	secretPayload := encodeSegment([]byte(`{"r":"secret-room-name"}`))
	tokens := []string{
		signPayload([]byte("other"), `{"r":"secret-room-name"}`),
		signRaw(testKey, `{"alg":"none"}`, `{"r":"secret-room-name"}`),
		"a." + secretPayload,
		signPayload(testKey, `{"r":"secret-room-name"}`) + "=",
	}
	for _, token := range tokens {
		_, err := codec.Verify(token)
		if err == nil {
			t.Fatalf("Verify(%s): expected an error, got nil", Fingerprint(token))
		}
		signature := token[strings.LastIndexByte(token, '.')+1:]
		for _, secret := range []string{token, secretPayload, signature, string(testKey)} {
			if secret != "" && len(secret) > 4 && strings.Contains(err.Error(), secret) {
				t.Errorf("error %q: expected no token part or key in it, found %q", err, secret)
			}
		}
	}
}

func TestCodecVerifyRejectsStandardBase64Decoding(t *testing.T) {
	// The standard encoding with padding would decode this signature; the codec must not.
	codec := mustCodec(t, testKey)
	input := encodeSegment([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + encodeSegment([]byte(`{"r":"a"}`))
	mac := hmac.New(sha256.New, testKey)
	mac.Write([]byte(input))
	std := base64.StdEncoding.EncodeToString(mac.Sum(nil))

	_, err := codec.Verify(input + "." + std)
	wantKind(t, err, ErrMalformedToken)
}
