package caddymodule

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Jobs, the first label of the request counter.
const (
	jobValidate = "validate"
	jobMint     = "mint"
)

// Outcomes besides the reasons of tokencore errors, the second label.
const (
	outcomeValidated   = "validated"
	outcomePreflight   = "preflight"
	outcomeMinted      = "minted"
	outcomeServerError = "server_error"
)

// counters count requests by job and outcome. The outcome of a rejection is
// the core's reason ("expired", "room_mismatch", ...), a fixed set, so the
// label cardinality stays small.
type counters struct {
	requests  *prometheus.CounterVec
	validated prometheus.Counter
	preflight prometheus.Counter
	minted    prometheus.Counter
}

// newCounters registers the request counter with registry, Caddy's registry
// for the loaded config, and reuses the counter that another handler of the
// same config registered. Caddy makes a new registry for each config it
// loads, so a reload starts from zero. A nil registry, as in unit tests,
// leaves the counter unregistered.
func newCounters(registry *prometheus.Registry) (*counters, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "caddy",
		Subsystem: "daily_token",
		Name:      "requests_total",
		Help:      "Requests handled by daily_token, by job (validate or mint) and outcome (validated, preflight, minted or the rejection reason).",
	}, []string{"job", "outcome"})

	if registry != nil {
		if err := registry.Register(requests); err != nil {
			var registered prometheus.AlreadyRegisteredError
			if !errors.As(err, &registered) {
				return nil, err
			}
			existing, ok := registered.ExistingCollector.(*prometheus.CounterVec)
			if !ok {
				return nil, err
			}
			requests = existing
		}
	}

	// resolve the labels of the frequent outcomes once
	return &counters{
		requests:  requests,
		validated: requests.WithLabelValues(jobValidate, outcomeValidated),
		preflight: requests.WithLabelValues(jobValidate, outcomePreflight),
		minted:    requests.WithLabelValues(jobMint, outcomeMinted),
	}, nil
}

// rejected counts a request that failed with reason.
func (c *counters) rejected(job, reason string) {
	c.requests.WithLabelValues(job, reason).Inc()
}
