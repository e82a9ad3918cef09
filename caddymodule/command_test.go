package caddymodule

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/spf13/cobra"

	"github.com/dailytoken/dailytoken/internal/casetable"
)

// runCommand runs a daily-token subcommand with args and stdin and returns
// its output and error.
func runCommand(t *testing.T, cmd *cobra.Command, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetIn(strings.NewReader(stdin))
	// cobra reads os.Args when the arguments are nil
	cmd.SetArgs(append([]string{}, args...))
	err := cmd.Execute()
	return out.String(), err
}

func TestCommandMintVerifiesElsewhere(t *testing.T) {
	t.Setenv("DAILY_CLI_KEY", testKey)
	out, err := runCommand(t, newMintCommand(), "",
		"--key-env", "DAILY_CLI_KEY", "--room", "hello", "--user-id", "u-1", "--user-name", "Ann {x}",
		"--owner", "--lifetime", "15m", "--claim", "lang=de", "--claim", `permissions={"canSend":["video"]}`)
	if err != nil {
		t.Fatalf("mint: %v; output %q", err, out)
	}
	token := strings.TrimSpace(out)

	parsed, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return []byte(testKey), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("golang-jwt rejects the minted token: %v", err)
	}
	claims := parsed.Claims.(jwt.MapClaims)
	for name, expected := range map[string]any{"r": "hello", "ud": "u-1", "u": "Ann {x}", "o": true, "uil": "de"} {
		if claims[name] != expected {
			t.Errorf("claim %s = %v, expected %v", name, claims[name], expected)
		}
	}
	if p, _ := claims["p"].(map[string]any); p["cs"] != "v" {
		t.Errorf("claim p = %v, expected canSend video in the short form", claims["p"])
	}
	exp, _ := claims.GetExpirationTime()
	iat, _ := claims.GetIssuedAt()
	if exp == nil || iat == nil || exp.Sub(iat.Time) != 15*time.Minute {
		t.Errorf("exp %v - iat %v, expected 15m", exp, iat)
	}
}

func TestCommandMintNeedsOneKeySource(t *testing.T) {
	t.Setenv("DAILY_CLI_KEY", testKey)
	t.Setenv("DAILY_CLI_EMPTY", "")
	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, []byte(testKey+"\n"), 0o600)

	tests := []struct {
		name     string
		args     []string
		expected string
	}{
		{"no key", []string{"--room", "a"}, "no key: give --key-env NAME or --key-file PATH"},
		{"both", []string{"--key-env", "DAILY_CLI_KEY", "--key-file", keyFile}, "either --key-env or --key-file"},
		{"empty variable", []string{"--key-env", "DAILY_CLI_EMPTY"}, "environment variable DAILY_CLI_EMPTY is unset or empty"},
		{"missing file", []string{"--key-file", keyFile + ".missing"}, "--key-file:"},
		{"key on the command line", []string{"--key", testKey}, "unknown flag: --key"},
		{"bad claim", []string{"--key-env", "DAILY_CLI_KEY", "--claim", "lang"}, `--claim "lang": expected property=value`},
		{"claim breaks a rule", []string{"--key-env", "DAILY_CLI_KEY", "--user-id", strings.Repeat("u", 37)}, "user_id is 37 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCommand(t, newMintCommand(), "", tt.args...)
			if err == nil {
				t.Fatalf("mint succeeded with output %q, expected an error", out)
			}
			if !strings.Contains(err.Error(), tt.expected) {
				t.Errorf("error = %q, expected it to contain %q", err, tt.expected)
			}
			if strings.Contains(out, testKey) || strings.Contains(err.Error(), testKey) {
				t.Errorf("the output or error contains the key")
			}
		})
	}

	// the key file works, its trailing newline ignored
	out, err := runCommand(t, newMintCommand(), "", "--key-file", keyFile, "--room", "a")
	if err != nil {
		t.Fatalf("mint with --key-file: %v", err)
	}
	if _, err := jwt.Parse(strings.TrimSpace(out), func(*jwt.Token) (any, error) { return []byte(testKey), nil }); err != nil {
		t.Errorf("token minted with --key-file does not verify with the key: %v", err)
	}
}

func TestCommandInspectShowsUncheckedClaims(t *testing.T) {
	token := casetable.Sign("a key inspect never sees", casetable.HS256Header, casetable.With(roomClaims("hello"), map[string]any{"exp": int64(1864081538)}))
	for _, source := range []string{"argument", "stdin"} {
		t.Run(source, func(t *testing.T) {
			var out string
			var err error
			if source == "argument" {
				out, err = runCommand(t, newInspectCommand(), "", token)
			} else {
				out, err = runCommand(t, newInspectCommand(), token+"\n")
			}
			if err != nil {
				t.Fatalf("inspect: %v", err)
			}
			for _, expected := range []string{
				"signature: NOT checked",
				`header:    {"alg":"HS256","typ":"JWT"}`,
				`"r": "hello"`,
				`room_name                  "hello"`,
				"exp  2029-01-26T00:25:38Z  (in ",
				" days ",
			} {
				if !strings.Contains(out, expected) {
					t.Errorf("output lacks %q:\n%s", expected, out)
				}
			}
		})
	}

	if _, err := runCommand(t, newInspectCommand(), "", "not-a-token"); err == nil || !strings.Contains(err.Error(), "1 dot-separated parts, expected 3") {
		t.Errorf("inspect of a malformed token: error = %v, expected the segment count", err)
	}
}

func TestRelativeTime(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		at       time.Time
		expected string
	}{
		{now, "now"},
		{now.Add(59*time.Minute + 400*time.Millisecond), "in 59m0s"},
		{now.Add(-2 * time.Hour), "2h0m0s ago"},
		{now.Add(783*24*time.Hour + 4*time.Hour + 5*time.Minute), "in 783 days 4h"},
		{now.Add(-72 * time.Hour), "3 days 0h ago"},
	}
	for _, tt := range tests {
		if got := relativeTime(tt.at, now); got != tt.expected {
			t.Errorf("relativeTime(now%+v) = %q, expected %q", tt.at.Sub(now), got, tt.expected)
		}
	}
}

func TestCommandVerify(t *testing.T) {
	t.Setenv("DAILY_CLI_KEY", testKey)
	now := time.Now().Unix()
	tests := []struct {
		name     string
		token    string
		args     []string
		valid    bool
		expected string
	}{
		{"valid", roomToken("hello"), nil, true, "valid\n"},
		{"valid for the room", roomToken("hello"), []string{"--room", "hello"}, true, `"r": "hello"`},
		{"another room", roomToken("hello"), []string{"--room", "other"}, false, "invalid: token room name \"hello\" does not match the route room \"other\" (room_mismatch, HTTP 403)"},
		{"another key", casetable.Sign("other", casetable.HS256Header, roomClaims("hello")), nil, false, "invalid_signature"},
		{"expired", casetable.Sign(testKey, casetable.HS256Header, casetable.With(roomClaims("hello"), map[string]any{"iat": now - 7200, "exp": now - 3600})), nil, false, "(expired, HTTP 401)"},
		{"not owner", roomToken("hello"), []string{"--require-owner"}, false, "not_owner"},
		{"too long", roomToken("hello"), []string{"--max-lifetime", "5m"}, false, "lifetime_too_long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--key-env", "DAILY_CLI_KEY"}, tt.args...)
			out, err := runCommand(t, newVerifyCommand(), tt.token, args...)
			if tt.valid && err != nil {
				t.Fatalf("verify: %v; output %q", err, out)
			}
			if !tt.valid && (err == nil || err.Error() != "the token is invalid") {
				t.Errorf("verify error = %v, expected: the token is invalid", err)
			}
			if !strings.Contains(out, tt.expected) {
				t.Errorf("output lacks %q:\n%s", tt.expected, out)
			}
		})
	}
}
