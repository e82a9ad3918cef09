package caddymodule

import (
	"errors"
	"fmt"
	"strings"

	"github.com/caddyserver/caddy/v2"
)

// resolveKeys turns the configured keys into HMAC secrets. {env.*} and
// {file.*} placeholders are resolved once, here, so a key can stay out of
// the config text. A placeholder that resolves to nothing is an error, not
// empty or literal text. Otherwise a typo would leave a short key or make
// the placeholder's own name the key, which anyone who reads the config
// could sign tokens with. Errors never contain a key.
func resolveKeys(keys []string) ([][]byte, error) {
	if len(keys) == 0 {
		return nil, errors.New("keys: at least one key is required")
	}

	repl := caddy.NewReplacer()
	secrets := make([][]byte, 0, len(keys))
	for i, key := range keys {
		resolved, err := repl.ReplaceFunc(fileShorthand(key), requireValue)
		if err != nil {
			return nil, fmt.Errorf("keys[%d]: resolves to an empty key: %v", i, err)
		}
		if resolved == "" {
			return nil, fmt.Errorf("keys[%d]: resolves to an empty key", i)
		}
		secrets = append(secrets, []byte(resolved))
	}
	return secrets, nil
}

// requireValue rejects a placeholder without a value. The replacer gives
// nil both for an unknown placeholder and for a file it cannot read.
func requireValue(variable string, value any) (any, error) {
	if value == nil || caddy.ToString(value) == "" {
		return nil, fmt.Errorf("placeholder {%s} is unset, empty, unreadable or unknown", variable)
	}
	return value, nil
}

// fileShorthand undoes a Caddyfile rewrite: the Caddyfile adapter reads
// {file.NAME} as the shorthand of {http.request.uri.path.file.NAME}, a
// request placeholder that means nothing when keys are resolved.
func fileShorthand(key string) string {
	return strings.ReplaceAll(key, "{http.request.uri.path.file.", "{file.")
}
