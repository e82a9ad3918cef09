package yaegiharness_test

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dailytoken/dailytoken/test/yaegiharness"
)

// fakePluginRoot is a middleware plugin module that copies its configuration
// into X-Echo-* response headers. Its package headerecho imports a second
// package of the module, listformat.
const fakePluginRoot = "testdata/fakeplugin"

const upstreamBody = "upstream"

// upstream is the next handler of every middleware under test.
func upstream() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		_, _ = io.WriteString(rw, upstreamBody)
	})
}

// get sends one GET request through handler over a real HTTP connection and
// returns the response with its body read.
func get(t *testing.T, handler http.Handler) (*http.Response, string) {
	t.Helper()

	server := httptest.NewServer(handler)
	t.Cleanup(server.Close)

	resp, err := server.Client().Get(server.URL + "/")
	if err != nil {
		t.Fatalf("GET %s: %v", server.URL, err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response body: %v", err)
	}

	return resp, string(body)
}

func checkHeaders(t *testing.T, resp *http.Response, want map[string]string) {
	t.Helper()

	for name, value := range want {
		if got := resp.Header.Get(name); got != value {
			t.Errorf("header %s = %q, want %q", name, got, value)
		}
	}
}

// copyFakePlugin copies the fake plugin to a temporary directory and replaces
// its manifest with manifest, for tests of manifests that Traefik rejects.
func copyFakePlugin(t *testing.T, manifest string) string {
	t.Helper()

	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS(fakePluginRoot)); err != nil {
		t.Fatalf("copy fake plugin: %v", err)
	}

	if err := os.WriteFile(filepath.Join(root, yaegiharness.ManifestFile), []byte(manifest), 0o644); err != nil {
		t.Fatalf("write manifest: %v", err)
	}

	return root
}

func TestLoadMiddlewareLabelStrings(t *testing.T) {
	// Docker and Kubernetes labels reach the plugin as strings only.
	dynamicConfig := map[string]any{
		"name":    "x",
		"count":   "3",
		"enabled": "true",
		"items":   "a,b",
	}

	handler, err := yaegiharness.LoadMiddleware(t, fakePluginRoot, dynamicConfig, upstream(), "echo@docker")
	if err != nil {
		t.Fatalf("LoadMiddleware: %v", err)
	}

	resp, body := get(t, handler)

	if resp.StatusCode != http.StatusOK {
		t.Errorf("status = %d, want %d", resp.StatusCode, http.StatusOK)
	}
	if body != upstreamBody {
		t.Errorf("body = %q, want %q from the next handler", body, upstreamBody)
	}
	checkHeaders(t, resp, map[string]string{
		"X-Echo-Middleware": "echo@docker",
		"X-Echo-Name":       "x",
		"X-Echo-Count":      "3",
		"X-Echo-Enabled":    "true",
		"X-Echo-Items":      "a|b",
		"X-Echo-Item-Count": "2",
	})
}

func TestNewMiddlewareConfigDecoding(t *testing.T) {
	// One plugin serves every case, as one Traefik interpreter serves every
	// router that uses the plugin.
	plugin, err := yaegiharness.LoadPlugin(t, fakePluginRoot)
	if err != nil {
		t.Fatalf("LoadPlugin: %v", err)
	}

	tests := []struct {
		name          string
		dynamicConfig map[string]any
		want          map[string]string
	}{
		{
			name: "typed values from the file provider",
			dynamicConfig: map[string]any{
				"name":    "typed",
				"count":   3,
				"enabled": true,
				"items":   []any{"a", "b"},
			},
			want: map[string]string{"X-Echo-Name": "typed", "X-Echo-Count": "3", "X-Echo-Enabled": "true", "X-Echo-Items": "a|b"},
		},
		{
			name:          "nil config keeps defaults",
			dynamicConfig: nil,
			want:          map[string]string{"X-Echo-Name": "default", "X-Echo-Count": "1", "X-Echo-Enabled": "false", "X-Echo-Item-Count": "0"},
		},
		{
			name:          "unknown key ignored",
			dynamicConfig: map[string]any{"nmae": "typo"},
			want:          map[string]string{"X-Echo-Name": "default", "X-Echo-Count": "1"},
		},
		{
			name:          "key case ignored",
			dynamicConfig: map[string]any{"NAME": "upper", "Count": "7"},
			want:          map[string]string{"X-Echo-Name": "upper", "X-Echo-Count": "7"},
		},
		{
			name:          "string without comma is one item",
			dynamicConfig: map[string]any{"items": "only"},
			want:          map[string]string{"X-Echo-Items": "only", "X-Echo-Item-Count": "1"},
		},
		{
			name:          "empty string is no items",
			dynamicConfig: map[string]any{"items": ""},
			want:          map[string]string{"X-Echo-Items": "", "X-Echo-Item-Count": "0"},
		},
		{
			name:          "numeric string as bool",
			dynamicConfig: map[string]any{"enabled": "1"},
			want:          map[string]string{"X-Echo-Enabled": "true"},
		},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			handler, err := plugin.NewMiddleware(t.Context(), test.dynamicConfig, upstream(), "echo@file")
			if err != nil {
				t.Fatalf("NewMiddleware: %v", err)
			}

			resp, _ := get(t, handler)
			checkHeaders(t, resp, test.want)
		})
	}
}

func TestDecodeConfigFields(t *testing.T) {
	plugin, err := yaegiharness.LoadPlugin(t, fakePluginRoot)
	if err != nil {
		t.Fatalf("LoadPlugin: %v", err)
	}

	config, err := plugin.DecodeConfig(map[string]any{"count": "5", "items": "a,b,c"})
	if err != nil {
		t.Fatalf("DecodeConfig: %v", err)
	}

	if config.Kind() != reflect.Pointer {
		t.Fatalf("config kind = %s, want a pointer to the plugin's Config", config.Kind())
	}

	fields := config.Elem()
	if got := fields.FieldByName("Name").String(); got != "default" {
		t.Errorf("Name = %q, want the CreateConfig default %q", got, "default")
	}
	if got := fields.FieldByName("Count").Int(); got != 5 {
		t.Errorf("Count = %d, want 5", got)
	}
	if got := fields.FieldByName("Items").Interface(); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("Items = %#v, want [a b c]", got)
	}
}

func TestLoadMiddlewareNewError(t *testing.T) {
	handler, err := yaegiharness.LoadMiddleware(t, fakePluginRoot, map[string]any{"count": "-1"}, upstream(), "echo@file")

	if err == nil {
		t.Fatal("LoadMiddleware returned no error for a negative count")
	}
	if want := "count must not be negative, got -1"; err.Error() != want {
		t.Errorf("error = %q, want New's error %q", err, want)
	}
	if handler != nil {
		t.Errorf("handler = %v, want nil alongside the error", handler)
	}
}

func TestLoadMiddlewareDecodeError(t *testing.T) {
	_, err := yaegiharness.LoadMiddleware(t, fakePluginRoot, map[string]any{"count": "three"}, upstream(), "echo@file")

	if err == nil {
		t.Fatal("LoadMiddleware returned no error for a non-numeric count")
	}
	if !strings.Contains(err.Error(), "decode dynamic configuration") {
		t.Errorf("error = %q, want a decoding error", err)
	}
}

func TestLoadPluginManifest(t *testing.T) {
	plugin, err := yaegiharness.LoadPlugin(t, fakePluginRoot)
	if err != nil {
		t.Fatalf("LoadPlugin: %v", err)
	}

	if plugin.ModulePath != "example.com/fakeplugin" {
		t.Errorf("ModulePath = %q, want example.com/fakeplugin", plugin.ModulePath)
	}
	if plugin.Manifest.Import != "example.com/fakeplugin/headerecho" {
		t.Errorf("Manifest.Import = %q, want example.com/fakeplugin/headerecho", plugin.Manifest.Import)
	}
}

func TestLoadPluginRejectsManifest(t *testing.T) {
	tests := []struct {
		name      string
		manifest  string
		wantError string
	}{
		{
			name: "useUnsafe",
			manifest: "displayName: Echo\ntype: middleware\nimport: example.com/fakeplugin/headerecho\n" +
				"summary: Echo.\nuseUnsafe: true\ntestData: {}\n",
			wantError: "useUnsafe",
		},
		{
			name:      "missing summary",
			manifest:  "displayName: Echo\ntype: middleware\nimport: example.com/fakeplugin/headerecho\ntestData: {}\n",
			wantError: "missing summary",
		},
		{
			name: "import outside module",
			manifest: "displayName: Echo\ntype: middleware\nimport: example.org/other/headerecho\n" +
				"summary: Echo.\ntestData: {}\n",
			wantError: "is not inside module",
		},
		{
			name: "provider plugin",
			manifest: "displayName: Echo\ntype: provider\nimport: example.com/fakeplugin/headerecho\n" +
				"summary: Echo.\ntestData: {}\n",
			wantError: "Yaegi middleware plugins only",
		},
		{
			name: "import not found",
			manifest: "displayName: Echo\ntype: middleware\nimport: example.com/fakeplugin/missing\n" +
				"summary: Echo.\ntestData: {}\n",
			wantError: `import plugin package "example.com/fakeplugin/missing"`,
		},
		{
			name: "base package without New",
			manifest: "displayName: Echo\ntype: middleware\nimport: example.com/fakeplugin/listformat\n" +
				"summary: Echo.\ntestData: {}\n",
			wantError: "evaluate listformat.New",
		},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			root := copyFakePlugin(t, test.manifest)

			_, err := yaegiharness.LoadPlugin(t, root)

			if err == nil {
				t.Fatal("LoadPlugin returned no error")
			}
			if !strings.Contains(err.Error(), test.wantError) {
				t.Errorf("error = %q, want it to contain %q", err, test.wantError)
			}
		})
	}
}

func TestLoadPluginMissingManifest(t *testing.T) {
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS(fakePluginRoot)); err != nil {
		t.Fatalf("copy fake plugin: %v", err)
	}
	if err := os.Remove(filepath.Join(root, yaegiharness.ManifestFile)); err != nil {
		t.Fatalf("remove manifest: %v", err)
	}

	_, err := yaegiharness.LoadPlugin(t, root)

	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error = %v, want a file-not-found error for %s", err, yaegiharness.ManifestFile)
	}
}

func TestEvalImportedPackage(t *testing.T) {
	i := yaegiharness.NewInterpreter(t, fakePluginRoot)

	yaegiharness.Eval(t, i, `import "example.com/fakeplugin/listformat"`)
	joined := yaegiharness.Eval(t, i, `listformat.Join([]string{"a", "b"})`)

	if got := joined.String(); got != "a|b" {
		t.Errorf(`listformat.Join([]string{"a", "b"}) = %q, want "a|b"`, got)
	}
}
