package caddymodule

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	"github.com/dailytoken/dailytoken/tokencore"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "daily-token",
		Usage: "mint|inspect|verify [flags]",
		Short: "Mints, inspects and verifies Daily meeting tokens",
		Long: `
Works with Daily meeting tokens from the command line, with the same code as
the daily_token handler.

  mint     signs a token with a key and writes it to stdout
  inspect  decodes a token and shows its header and claims, without a key;
           the signature is NOT checked
  verify   checks a token with a key as a validating route would, writes
           valid and the claims, or invalid and the reason, and exits with
           status 1 when the token is invalid

The key is read from an environment variable (--key-env NAME) or a file
(--key-file PATH), never from the command line, where other users of the
machine could see it in the process list.
`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.AddCommand(newMintCommand(), newInspectCommand(), newVerifyCommand())
		},
	})
}

// maxTokenInput bounds what inspect and verify read from stdin. It is far
// above any real token, so the size check of the core still reports an
// oversized token.
const maxTokenInput = 1 << 20

// newMintCommand returns "caddy daily-token mint".
func newMintCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mint --key-env NAME|--key-file PATH [flags]",
		Short: "Signs a token with the key and writes it to stdout",
		Example: `  DAILY_API_KEY=... caddy daily-token mint --key-env DAILY_API_KEY --room hello --user-id u1 --lifetime 15m
  caddy daily-token mint --key-file /etc/caddy/daily.key --room hello --owner --claim lang=de`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
	}
	flags := cmd.Flags()
	addKeyFlags(cmd)
	flags.String("room", "", "room name (r) the token is valid for; empty means every room of the domain")
	flags.String("user-id", "", "user id (ud), at most 36 characters")
	flags.String("user-name", "", "user name (u), shown in the meeting")
	flags.Bool("owner", false, "grant meeting owner privileges (is_owner)")
	flags.Duration("lifetime", tokencore.DefaultLifetime, "how long the token is valid, such as 15m or 2h")
	flags.Bool("not-before", false, "add an nbf claim set to now")
	flags.StringArray("claim", nil, "another claim as property=value, by Daily's REST property name, such as lang=de or permissions={\"canSend\":false}; repeatable")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		key, err := readKey(cmd)
		if err != nil {
			return err
		}

		// collect the claims
		claims := map[string]any{}
		for _, flag := range []struct{ name, property string }{
			{"room", "room_name"}, {"user-id", "user_id"}, {"user-name", "user_name"},
		} {
			if value, _ := flags.GetString(flag.name); value != "" {
				claims[flag.property] = literalValue(value)
			}
		}
		if owner, _ := flags.GetBool("owner"); owner {
			claims["is_owner"] = true
		}
		extra, _ := flags.GetStringArray("claim")
		for _, spec := range extra {
			property, value, found := strings.Cut(spec, "=")
			if !found || property == "" {
				return fmt.Errorf("--claim %q: expected property=value", spec)
			}
			if _, exists := claims[property]; exists {
				return fmt.Errorf("--claim %q: claim %s is set twice", spec, property)
			}
			claims[property] = flagClaimValue(value)
		}

		// mint with the handler's minter, so the same rules apply
		lifetime, _ := flags.GetDuration("lifetime")
		notBefore, _ := flags.GetBool("not-before")
		minter, err := tokencore.NewMinter(tokencore.MinterConfig{
			Keys:         [][]byte{key},
			Claims:       claims,
			Lifetime:     lifetime,
			SetNotBefore: notBefore,
			Target:       tokencore.TargetResponse,
		})
		if err != nil {
			return err
		}
		request, err := http.NewRequest(http.MethodGet, "/", nil)
		if err != nil {
			return err
		}
		token, _, err := minter.Mint(request, nil)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(cmd.OutOrStdout(), token)
		return err
	}
	return cmd
}

// newInspectCommand returns "caddy daily-token inspect".
func newInspectCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inspect [TOKEN]",
		Short: "Decodes a token without checking its signature",
		Long: `Decodes a token, given as argument or on stdin, and shows its header, its
claims and its times. No key is needed, because the signature is NOT checked:
anyone can write a token with these claims. Use verify to check it.`,
		Args:         cobra.MaximumNArgs(1),
		SilenceUsage: true,
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		token, err := readToken(cmd, args)
		if err != nil {
			return err
		}
		header, payload, err := decodeUnverified(token)
		if err != nil {
			return err
		}

		out := cmd.OutOrStdout()
		fmt.Fprintln(out, "signature: NOT checked (inspect reads the token without a key; use verify)")
		fmt.Fprintf(out, "header:    %s\n", header)
		if err := printClaims(out, payload, time.Now()); err != nil {
			return err
		}
		return nil
	}
	return cmd
}

// newVerifyCommand returns "caddy daily-token verify".
func newVerifyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify --key-env NAME|--key-file PATH [flags] [TOKEN]",
		Short: "Checks a token with the key as a validating route would",
		Long: `Checks a token, given as argument or on stdin, with the key and the default
policy of a validating route (exp required, 30s leeway), plus the options
given. Writes valid and the claims, or invalid and the reason; the exit
status is 1 when the token is invalid.`,
		Args:         cobra.MaximumNArgs(1),
		SilenceUsage: true,
	}
	flags := cmd.Flags()
	addKeyFlags(cmd)
	flags.String("room", "", "room name the token must be for")
	flags.String("domain-id", "", "domain id the token must carry")
	flags.Bool("require-owner", false, "require is_owner true")
	flags.Duration("max-lifetime", 0, "longest validity accepted, such as 24h; 0 means no limit")
	flags.Bool("allow-missing-exp", false, "accept a token without exp")

	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		key, err := readKey(cmd)
		if err != nil {
			return err
		}
		token, err := readToken(cmd, args)
		if err != nil {
			return err
		}

		// validate with the handler's validator and a request that carries the token
		room, _ := flags.GetString("room")
		domainID, _ := flags.GetString("domain-id")
		requireOwner, _ := flags.GetBool("require-owner")
		maxLifetime, _ := flags.GetDuration("max-lifetime")
		allowMissingExp, _ := flags.GetBool("allow-missing-exp")
		validator, err := tokencore.NewValidator(tokencore.ValidatorConfig{
			Keys:    [][]byte{key},
			Sources: []string{tokencore.SourceBearer},
			Room:    literalValue(room),
			Policy: tokencore.Policy{
				AllowMissingExp: allowMissingExp,
				MaxLifetime:     maxLifetime,
				DomainID:        domainID,
				RequireOwner:    requireOwner,
			},
		})
		if err != nil {
			return err
		}
		request, err := http.NewRequest(http.MethodGet, "/", nil)
		if err != nil {
			return err
		}
		request.Header.Set("Authorization", "Bearer "+token)

		out := cmd.OutOrStdout()
		result, err := validator.Authorize(request, nil)
		if err != nil {
			e, ok := tokencore.AsError(err)
			if !ok {
				return err
			}
			fmt.Fprintf(out, "invalid: %s (%s, HTTP %d)\n", e.Description, e.Reason, e.Status)
			return errors.New("the token is invalid")
		}
		fmt.Fprintln(out, "valid")
		payload, err := result.Claims.Payload()
		if err != nil {
			return err
		}
		return printClaims(out, payload, time.Now())
	}
	return cmd
}

// addKeyFlags adds the two ways to give the key.
func addKeyFlags(cmd *cobra.Command) {
	cmd.Flags().String("key-env", "", "name of the environment variable that contains the Daily API key")
	cmd.Flags().String("key-file", "", "path of a file that contains the Daily API key; one trailing newline is ignored")
}

// readKey returns the key from --key-env or --key-file, exactly one of
// which must be given.
func readKey(cmd *cobra.Command) ([]byte, error) {
	envName, _ := cmd.Flags().GetString("key-env")
	path, _ := cmd.Flags().GetString("key-file")
	switch {
	case envName != "" && path != "":
		return nil, errors.New("give either --key-env or --key-file, not both")
	case envName != "":
		key := os.Getenv(envName)
		if key == "" {
			return nil, fmt.Errorf("--key-env: environment variable %s is unset or empty", envName)
		}
		return []byte(key), nil
	case path != "":
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--key-file: %v", err)
		}
		key := bytes.TrimSuffix(bytes.TrimSuffix(data, []byte("\n")), []byte("\r"))
		if len(key) == 0 {
			return nil, fmt.Errorf("--key-file: %s is empty", path)
		}
		return key, nil
	}
	return nil, errors.New("no key: give --key-env NAME or --key-file PATH")
}

// readToken returns the token from the argument, or else from stdin.
func readToken(cmd *cobra.Command, args []string) (string, error) {
	if len(args) == 1 {
		return strings.TrimSpace(args[0]), nil
	}
	data, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), maxTokenInput))
	if err != nil {
		return "", fmt.Errorf("reading the token from stdin: %v", err)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", errors.New("no token: give it as argument or on stdin")
	}
	return token, nil
}

// literalValue escapes the braces of a command-line value, which the core
// would otherwise read as request value placeholders.
func literalValue(s string) string {
	return strings.NewReplacer(`{`, `\{`, `}`, `\}`).Replace(s)
}

// flagClaimValue keeps a JSON object, such as a permissions value, as JSON
// and makes any other value literal text.
func flagClaimValue(value string) any {
	if object, ok := claimValue(value).(json.RawMessage); ok {
		return object
	}
	return literalValue(value)
}

// decodeUnverified splits a compact JWS and decodes its header and payload
// without checking anything else. It is for display only.
func decodeUnverified(token string) (header, payload []byte, err error) {
	segments := strings.Split(token, ".")
	if len(segments) != 3 {
		return nil, nil, fmt.Errorf("the token has %d dot-separated parts, expected 3 (header.payload.signature)", len(segments))
	}
	header, err = base64.RawURLEncoding.DecodeString(segments[0])
	if err != nil {
		return nil, nil, fmt.Errorf("the token header is not base64url: %v", err)
	}
	payload, err = base64.RawURLEncoding.DecodeString(segments[1])
	if err != nil {
		return nil, nil, fmt.Errorf("the token payload is not base64url: %v", err)
	}
	return header, payload, nil
}

// printClaims writes the payload as indented JSON, then its property names
// and its times in UTC with how far they are from now.
func printClaims(out io.Writer, payload []byte, now time.Time) error {
	var indented bytes.Buffer
	if err := json.Indent(&indented, payload, "  ", "  "); err != nil {
		return fmt.Errorf("the token payload is not JSON: %v", err)
	}
	fmt.Fprintf(out, "claims:\n  %s\n", indented.String())

	claims, err := tokencore.DecodeClaims(payload)
	if err != nil {
		fmt.Fprintf(out, "problem:   %s\n", err)
		return nil
	}
	properties := claims.Properties()
	names := make([]string, 0, len(properties))
	for name := range properties {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Fprintln(out, "properties:")
	for _, name := range names {
		value, err := json.Marshal(properties[name])
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  %-26s %s\n", name, value)
	}

	fmt.Fprintln(out, "times:")
	for _, t := range []struct {
		name string
		at   time.Time
	}{{"iat", claims.Iat}, {"nbf", claims.Nbf}, {"exp", claims.Exp}} {
		if t.at.IsZero() {
			if t.name == "exp" {
				fmt.Fprintln(out, "  exp  none: Daily treats the token as valid forever")
			}
			continue
		}
		fmt.Fprintf(out, "  %s  %s  (%s)\n", t.name, t.at.UTC().Format(time.RFC3339), relativeTime(t.at, now))
	}
	return nil
}

// relativeTime formats the distance from now to t, such as "in 14m59s",
// "2h0m0s ago" or, beyond two days, "in 783 days 4h".
func relativeTime(t, now time.Time) string {
	d := t.Sub(now).Round(time.Second)
	if d == 0 {
		return "now"
	}
	magnitude := d
	if d < 0 {
		magnitude = -d
	}
	text := magnitude.String()
	if magnitude >= 48*time.Hour {
		days := magnitude / (24 * time.Hour)
		hours := (magnitude - days*24*time.Hour) / time.Hour
		text = fmt.Sprintf("%d days %dh", days, hours)
	}
	if d > 0 {
		return "in " + text
	}
	return text + " ago"
}
