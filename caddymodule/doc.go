// Package caddymodule puts Daily meeting tokens into Caddy v2.
//
// The HTTP handler http.handlers.daily_token validates the token of each
// request or mints a token for it. The authentication provider
// http.authentication.providers.daily_token validates inside Caddy's
// authentication handler, next to basic_auth. The Caddyfile directive
// daily_token configures the handler, and the command caddy daily-token
// mints, inspects and verifies tokens for operators.
// Every rule about tokens lives in the tokencore package; this package
// translates Caddy configuration and requests to it.
package caddymodule
