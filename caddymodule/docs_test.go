package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// fencedBlocks returns the code blocks of a Markdown file in the given
// language.
func fencedBlocks(t *testing.T, path, language string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pattern := regexp.MustCompile("(?ms)^ *```" + language + "\n(.*?)^ *```")
	var blocks []string
	for _, match := range pattern.FindAllStringSubmatch(string(data), -1) {
		blocks = append(blocks, match[1])
	}
	return blocks
}

func TestDocsCaddyfileExamplesAdapt(t *testing.T) {
	var blocks []string
	for _, path := range []string{"../docs/caddy.md", "../README.md"} {
		blocks = append(blocks, fencedBlocks(t, path, "caddyfile")...)
	}
	if len(blocks) < 4 {
		t.Fatalf("found %d Caddyfile examples, expected at least 4", len(blocks))
	}
	for _, block := range blocks {
		if strings.HasPrefix(block, "daily_token [<matcher>]") {
			continue // the syntax summary
		}
		site := block
		if !strings.Contains(block, "example.com {") {
			site = ":8080 {\n" + block + "}\n"
		}
		if _, err := adapt(site); err != nil {
			t.Errorf("example does not adapt: %v\n%s", err, block)
		}
	}
}

func TestDocsJSONHandlersProvision(t *testing.T) {
	t.Setenv("DAILY_API_KEY", testKey)
	handlers := 0
	for _, block := range fencedBlocks(t, "../docs/caddy.md", "json") {
		var fields map[string]any
		if err := json.Unmarshal([]byte(block), &fields); err != nil {
			t.Errorf("example is not JSON: %v\n%s", err, block)
			continue
		}
		if fields["handler"] == "authentication" {
			checkProviderExample(t, fields, block)
			continue
		}
		if fields["handler"] != "daily_token" {
			continue
		}
		handlers++

		// every field but "handler" must be one of the handler's
		delete(fields, "handler")
		stripped, _ := json.Marshal(fields)
		decoder := json.NewDecoder(bytes.NewReader(stripped))
		decoder.DisallowUnknownFields()
		var handler Handler
		if err := decoder.Decode(&handler); err != nil {
			t.Errorf("example has a field the handler lacks: %v\n%s", err, block)
			continue
		}
		if err := provision(t, &handler); err != nil {
			t.Errorf("example does not provision: %v\n%s", err, block)
		}
	}
	if handlers != 2 {
		t.Errorf("found %d daily_token handler examples, expected 2", handlers)
	}
}

// checkProviderExample decodes and provisions the daily_token provider of
// an authentication handler example.
func checkProviderExample(t *testing.T, fields map[string]any, block string) {
	t.Helper()
	providers, _ := fields["providers"].(map[string]any)
	raw, err := json.Marshal(providers["daily_token"])
	if err != nil || providers["daily_token"] == nil {
		t.Errorf("authentication example has no daily_token provider:\n%s", block)
		return
	}
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.DisallowUnknownFields()
	var provider Provider
	if err := decoder.Decode(&provider); err != nil {
		t.Errorf("provider example has a field the provider lacks: %v\n%s", err, block)
		return
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	if err := provider.Provision(ctx); err != nil {
		t.Errorf("provider example does not provision: %v\n%s", err, block)
	}
}
