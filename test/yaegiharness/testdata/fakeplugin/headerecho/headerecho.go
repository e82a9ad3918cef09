// Package headerecho is a minimal Traefik middleware plugin for the Yaegi
// harness tests: it copies its configuration into response headers.
package headerecho

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"example.com/fakeplugin/listformat"
)

// Config is the plugin configuration, one field per kind of value that
// Traefik's decoder converts from strings.
type Config struct {
	Name    string   `json:"name,omitempty"`
	Count   int      `json:"count,omitempty"`
	Enabled bool     `json:"enabled,omitempty"`
	Items   []string `json:"items,omitempty"`
}

// CreateConfig returns the default configuration.
func CreateConfig() *Config {
	return &Config{Name: "default", Count: 1}
}

// HeaderEcho sets X-Echo-* response headers from its configuration, then
// calls the next handler.
type HeaderEcho struct {
	next           http.Handler
	middlewareName string
	name           string
	count          int
	enabled        bool
	items          []string
}

// New creates a HeaderEcho. It returns an error for a negative count.
func New(ctx context.Context, next http.Handler, config *Config, name string) (http.Handler, error) {
	if config.Count < 0 {
		return nil, fmt.Errorf("count must not be negative, got %d", config.Count)
	}

	items := make([]string, len(config.Items))
	copy(items, config.Items)

	echo := &HeaderEcho{
		next:           next,
		middlewareName: name,
		name:           config.Name,
		count:          config.Count,
		enabled:        config.Enabled,
		items:          items,
	}

	return echo, nil
}

func (h *HeaderEcho) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	rw.Header().Set("X-Echo-Middleware", h.middlewareName)
	rw.Header().Set("X-Echo-Name", h.name)
	rw.Header().Set("X-Echo-Count", strconv.Itoa(h.count))
	rw.Header().Set("X-Echo-Enabled", strconv.FormatBool(h.enabled))
	rw.Header().Set("X-Echo-Items", listformat.Join(h.items))
	rw.Header().Set("X-Echo-Item-Count", strconv.Itoa(len(h.items)))

	h.next.ServeHTTP(rw, req)
}
