package caddymodule

import (
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/dailytoken/dailytoken/tokencore"
)

// DailyAPI makes a route check or mint tokens through Daily's REST API
// instead of locally: validation calls GET /meeting-tokens/{token}, minting
// calls POST /meeting-tokens. The one key in keys is then the REST API key.
// Use it when tokens are not self-signed with your key, or when Daily's own
// verdict is wanted, such as for a room that was deleted. A failing or
// rate-limiting API rejects requests with 503; nothing passes unchecked.
type DailyAPI struct {
	// The base URL of the API. Plain http is accepted only for a loopback
	// host, such as a test server, because every call carries the API key
	// and a token. Default: https://api.daily.co/v1
	BaseURL string `json:"base_url,omitempty"`

	// The time limit of each call, connecting and reading the response
	// included. Default: 3s
	Timeout caddy.Duration `json:"timeout,omitempty"`

	// The maximum pause in calls after a 429 response, which caps both a
	// longer Retry-After from Daily and the pause that doubles after
	// repeated 429s. At least 1s, the unit of Retry-After. Default: 1m
	MaxBackoff caddy.Duration `json:"max_backoff,omitempty"`

	// The number of results kept. When validating, it bounds the tokens
	// Daily confirmed and, separately, the tokens it rejected. When minting,
	// it bounds the tokens reused for requests with the same claims. A
	// negative value disables caching, so every request calls the API.
	// Default: 10000 when validating, 1000 when minting
	CacheSize int `json:"cache_size,omitempty"`

	// Validate only: how long a token Daily confirmed is trusted without
	// another call, at most until its exp. It bounds how long a token keeps
	// working here after Daily stops accepting it. A negative value turns
	// this cache off. Default: 1m
	CacheTTL caddy.Duration `json:"cache_ttl,omitempty"`

	// Validate only: how long a token Daily rejected is rejected without
	// another call. A negative value turns this cache off. Default: 10s
	NegativeCacheTTL caddy.Duration `json:"negative_cache_ttl,omitempty"`
}

// signerName names where tokens are checked or signed, for the
// provisioning log: "local" or the API's base URL.
func signerName(a *DailyAPI) string {
	if a == nil {
		return "local"
	}
	if a.BaseURL == "" {
		return tokencore.DefaultRESTBaseURL
	}
	return a.BaseURL
}

// client returns a REST client with the one configured key.
func (a *DailyAPI) client(keys [][]byte) (*tokencore.RESTClient, error) {
	if len(keys) != 1 {
		return nil, fmt.Errorf("daily_api: keys must contain exactly one key, the REST API key, and contains %d", len(keys))
	}
	client, err := tokencore.NewRESTClient(tokencore.RESTConfig{
		APIKey:     string(keys[0]),
		BaseURL:    a.BaseURL,
		Timeout:    time.Duration(a.Timeout),
		MaxBackoff: time.Duration(a.MaxBackoff),
	})
	if err != nil {
		return nil, fmt.Errorf("daily_api: %v", err)
	}
	return client, nil
}

// verifier returns the token verifier of a validating route.
func (a *DailyAPI) verifier(keys [][]byte, maxTokenSize int) (tokencore.TokenVerifier, error) {
	client, err := a.client(keys)
	if err != nil {
		return nil, err
	}
	introspector, err := tokencore.NewIntrospector(tokencore.IntrospectorConfig{
		Client:           client,
		MaxTokenSize:     maxTokenSize,
		CacheSize:        a.CacheSize,
		CacheTTL:         time.Duration(a.CacheTTL),
		NegativeCacheTTL: time.Duration(a.NegativeCacheTTL),
	})
	if err != nil {
		return nil, fmt.Errorf("daily_api: %v", err)
	}
	return introspector, nil
}

// signer returns the token signer of a minting route.
func (a *DailyAPI) signer(keys [][]byte) (tokencore.TokenSigner, error) {
	if a.CacheTTL != 0 || a.NegativeCacheTTL != 0 {
		return nil, fmt.Errorf("daily_api: cache_ttl and negative_cache_ttl apply to validation only")
	}
	client, err := a.client(keys)
	if err != nil {
		return nil, err
	}
	signer, err := tokencore.NewRESTSigner(tokencore.RESTSignerConfig{Client: client, CacheSize: a.CacheSize})
	if err != nil {
		return nil, fmt.Errorf("daily_api: %v", err)
	}
	return signer, nil
}
