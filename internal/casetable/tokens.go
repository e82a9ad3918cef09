package casetable

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// HS256Header is the protected header of every Daily token.
const HS256Header = `{"alg":"HS256","typ":"JWT"}`

var b64 = base64.RawURLEncoding

// ValidClaims returns the claims of a valid token for Room issued at now,
// valid for one hour.
func ValidClaims(now time.Time) map[string]any {
	return map[string]any{
		"r":   Room,
		"d":   DomainID,
		"ud":  UserID,
		"u":   UserName,
		"iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
	}
}

// ValidToken returns a token with ValidClaims(now), signed with Key.
func ValidToken(now time.Time) string {
	return Sign(Key, HS256Header, ValidClaims(now))
}

// With returns a copy of claims with the given claims set, and those given a
// nil value removed.
func With(claims map[string]any, changes map[string]any) map[string]any {
	out := make(map[string]any, len(claims)+len(changes))
	for name, value := range claims {
		out[name] = value
	}
	for name, value := range changes {
		if value == nil {
			delete(out, name)
			continue
		}
		out[name] = value
	}
	return out
}

// Sign returns a compact JWS of claims with the given protected header,
// signed with HMAC-SHA256 and key whatever alg the header names.
func Sign(key, header string, claims map[string]any) string {
	payload, err := json.Marshal(claims)
	if err != nil {
		panic(fmt.Sprintf("casetable: encoding claims: %v", err))
	}
	signingInput := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString(payload)
	return signingInput + "." + b64.EncodeToString(hmacSHA256(key, signingInput))
}

func hmacSHA256(key, data string) []byte {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(data))
	return mac.Sum(nil)
}

// Tamper returns token with one character of its payload changed, so that
// the signature no longer matches.
func Tamper(token string) string {
	parts := strings.Split(token, ".")
	payload := []byte(parts[1])
	if payload[2] == 'A' {
		payload[2] = 'B'
	} else {
		payload[2] = 'A'
	}
	parts[1] = string(payload)
	return strings.Join(parts, ".")
}

// VerifyToken checks that token is an HS256 compact JWS signed with key and
// returns its claims. It is a minimal independent check for minted tokens.
func VerifyToken(key, token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("token has %d segments, expected 3", len(parts))
	}

	header, err := b64.DecodeString(parts[0])
	if err != nil {
		return nil, fmt.Errorf("header is not base64url: %v", err)
	}
	var headerFields map[string]any
	if err := json.Unmarshal(header, &headerFields); err != nil {
		return nil, fmt.Errorf("header is not a JSON object: %v", err)
	}
	if headerFields["alg"] != "HS256" {
		return nil, fmt.Errorf("header alg is %v, expected HS256", headerFields["alg"])
	}

	signature, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("signature is not base64url: %v", err)
	}
	if !hmac.Equal(signature, hmacSHA256(key, parts[0]+"."+parts[1])) {
		return nil, errors.New("signature does not match the key")
	}

	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("payload is not base64url: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fmt.Errorf("payload is not a JSON object: %v", err)
	}
	return claims, nil
}
