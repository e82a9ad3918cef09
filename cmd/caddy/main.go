// Command caddy is Caddy with its standard modules and the daily_token
// modules of this repository: the handler http.handlers.daily_token, the
// authentication provider http.authentication.providers.daily_token, the
// Caddyfile directive daily_token and the command caddy daily-token.
//
//	go run ./cmd/caddy run --config Caddyfile.example --adapter caddyfile
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/dailytoken/dailytoken/caddymodule"
)

func main() {
	caddycmd.Main()
}
