package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

func TestModulesRegistered(t *testing.T) {
	for _, id := range []string{
		"http.handlers.daily_token",
		"http.authentication.providers.daily_token",
		"http.handlers.authentication",
		"http.handlers.reverse_proxy",
	} {
		if _, err := caddy.GetModule(id); err != nil {
			t.Errorf("module %s: %v", id, err)
		}
	}
}

// buildCaddy builds this command once for the binary tests.
func buildCaddy(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the caddy binary")
	}
	binary := filepath.Join(t.TempDir(), "caddy")
	build := exec.Command("go", "build", "-o", binary, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return binary
}

func TestBinary(t *testing.T) {
	binary := buildCaddy(t)

	t.Run("list-modules", func(t *testing.T) {
		out, err := exec.Command(binary, "list-modules").Output()
		if err != nil {
			t.Fatalf("list-modules: %v", err)
		}
		for _, id := range []string{"http.handlers.daily_token", "http.authentication.providers.daily_token"} {
			if !strings.Contains(string(out), id+"\n") {
				t.Errorf("list-modules lacks %s", id)
			}
		}
	})

	t.Run("example validates", func(t *testing.T) {
		// validate provisions every module, the key included, without serving
		validate := exec.Command(binary, "validate", "--config", "../../Caddyfile.example", "--adapter", "caddyfile")
		validate.Env = withoutVariable(os.Environ(), "DAILY_API_KEY")
		if out, err := validate.CombinedOutput(); err != nil {
			t.Fatalf("validate: %v\n%s", err, out)
		}
	})

	t.Run("verify exit status", func(t *testing.T) {
		mint := exec.Command(binary, "daily-token", "mint", "--key-env", "DAILY_CLI_KEY", "--room", "hello")
		mint.Env = append(os.Environ(), "DAILY_CLI_KEY=cli-key")
		token, err := mint.Output()
		if err != nil {
			t.Fatalf("mint: %v", err)
		}

		verify := exec.Command(binary, "daily-token", "verify", "--key-env", "DAILY_CLI_KEY", "--room", "hello")
		verify.Env = append(os.Environ(), "DAILY_CLI_KEY=cli-key")
		verify.Stdin = strings.NewReader(string(token))
		if out, err := verify.Output(); err != nil || !strings.HasPrefix(string(out), "valid\n") {
			t.Errorf("verify of a valid token: %v, output %q", err, out)
		}

		verify = exec.Command(binary, "daily-token", "verify", "--key-env", "DAILY_CLI_KEY", "--room", "other", strings.TrimSpace(string(token)))
		verify.Env = append(os.Environ(), "DAILY_CLI_KEY=cli-key")
		out, err := verify.Output()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
			t.Errorf("verify of a token for another room: %v, expected exit status 1", err)
		}
		if !strings.HasPrefix(string(out), "invalid: ") {
			t.Errorf("verify output = %q, expected invalid: and the reason", out)
		}
	})
}

// withoutVariable removes every entry of name from env.
func withoutVariable(env []string, name string) []string {
	kept := env[:0]
	for _, entry := range env {
		if !strings.HasPrefix(entry, name+"=") {
			kept = append(kept, entry)
		}
	}
	return kept
}
