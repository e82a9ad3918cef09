package traefiktest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"gopkg.in/yaml.v3"

	"github.com/dailytoken/dailytoken/internal/casetable"
)

// The tests in this file read the configuration examples of
// docs/traefik.md, turn each into the plugin options that Traefik's provider
// would pass, and start the middlewares under Yaegi. The options take the
// shape each provider gives them: YAML and TOML values keep their types,
// Docker labels are strings, and Kubernetes values have gone through JSON,
// so numbers are float64.

const (
	docsModulePath = "github.com/dailytoken/dailytoken"
	docsPluginName = "dailytoken"
	docsKeyEnv     = "DAILY_API_KEY"
)

// docExample is the plugin options of the middlewares of one example, and
// the key they resolve to.
type docExample struct {
	format      string
	middlewares map[string]map[string]any
	key         string
}

var codeBlock = regexp.MustCompile("(?s)```(yaml|toml)\n(.*?)```")

// readDocExamples returns the dynamic configuration examples of the docs and
// checks the static configuration examples on the way.
func readDocExamples(t *testing.T) []docExample {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(moduleRoot, "docs", "traefik.md"))
	if err != nil {
		t.Fatal(err)
	}

	var examples []docExample
	staticBlocks := 0
	for _, match := range codeBlock.FindAllStringSubmatch(string(text), -1) {
		language, block := match[1], match[2]
		var documents []map[string]any
		if language == "toml" {
			var document map[string]any
			if _, err := toml.Decode(block, &document); err != nil {
				t.Fatalf("TOML example does not parse: %v\n%s", err, block)
			}
			documents = append(documents, document)
		} else {
			documents = decodeYAMLDocuments(t, block)
		}

		for _, document := range documents {
			if experimental, ok := document["experimental"].(map[string]any); ok {
				checkStaticExample(t, language, experimental)
				staticBlocks++
			}
		}
		if example, ok := dynamicExample(t, language, documents); ok {
			examples = append(examples, example)
		}
	}

	if staticBlocks != 4 {
		t.Errorf("found %d static configuration examples, expected 4 (YAML and TOML, catalog and local)", staticBlocks)
	}
	return examples
}

func decodeYAMLDocuments(t *testing.T, block string) []map[string]any {
	t.Helper()
	var documents []map[string]any
	decoder := yaml.NewDecoder(strings.NewReader(block))
	for {
		var document map[string]any
		err := decoder.Decode(&document)
		if errors.Is(err, io.EOF) {
			return documents
		}
		if err != nil {
			t.Fatalf("YAML example does not parse: %v\n%s", err, block)
		}
		documents = append(documents, document)
	}
}

// checkStaticExample checks that a static configuration example declares
// the plugin under its module path.
func checkStaticExample(t *testing.T, language string, experimental map[string]any) {
	t.Helper()
	for _, kind := range []string{"plugins", "localPlugins"} {
		plugins, ok := experimental[kind].(map[string]any)
		if !ok {
			continue
		}
		plugin, _ := plugins[docsPluginName].(map[string]any)
		if plugin["moduleName"] != docsModulePath {
			t.Errorf("%s static example: experimental.%s.%s.moduleName = %v, expected %s", language, kind, docsPluginName, plugin["moduleName"], docsModulePath)
		}
		if _, hasVersion := plugin["version"]; hasVersion != (kind == "plugins") {
			t.Errorf("%s static example: experimental.%s has version %v, expected one only for plugins", language, kind, plugin["version"])
		}
	}
}

// dynamicExample extracts the dailytoken middlewares of one code block.
func dynamicExample(t *testing.T, language string, documents []map[string]any) (docExample, bool) {
	t.Helper()
	example := docExample{middlewares: map[string]map[string]any{}, key: casetable.Key}

	for _, document := range documents {
		// file provider
		if middlewares, ok := lookup(document, "http", "middlewares").(map[string]any); ok {
			example.format = "file provider " + language
			for name, middleware := range middlewares {
				if options, ok := lookup(middleware, "plugin", docsPluginName).(map[string]any); ok {
					example.middlewares[name] = options
				}
			}
		}

		// Docker labels
		if labels, ok := document["labels"].([]any); ok {
			example.format = "Docker labels"
			for _, label := range labels {
				addLabel(t, example.middlewares, label.(string))
			}
		}

		// Kubernetes: Traefik reads the CRD as JSON and resolves secret
		// references in plugin options.
		if document["kind"] == "Middleware" {
			example.format = "Kubernetes"
			name, _ := lookup(document, "metadata", "name").(string)
			options := jsonRoundTrip(t, lookup(document, "spec", "plugin", docsPluginName))
			example.middlewares[name] = resolveSecrets(t, options, documents).(map[string]any)
			example.key = secretValue(t, documents, "daily-api", "key")
		}
	}
	return example, len(example.middlewares) > 0
}

func lookup(value any, path ...string) any {
	for _, name := range path {
		object, ok := value.(map[string]any)
		if !ok {
			return nil
		}
		value = object[name]
	}
	return value
}

// addLabel adds one Docker label to the options of its middleware, as
// strings in nested maps, the shape Traefik's label parser gives a plugin.
func addLabel(t *testing.T, middlewares map[string]map[string]any, label string) {
	t.Helper()
	key, value, found := strings.Cut(label, "=")
	if !found {
		t.Fatalf("label %q has no '='", label)
	}
	rest, isMiddleware := strings.CutPrefix(key, "traefik.http.middlewares.")
	if !isMiddleware {
		return
	}
	name, path, _ := strings.Cut(rest, ".plugin."+docsPluginName+".")
	if path == "" {
		return
	}
	if middlewares[name] == nil {
		middlewares[name] = map[string]any{}
	}
	node := middlewares[name]
	parts := strings.Split(path, ".")
	for _, part := range parts[:len(parts)-1] {
		child, ok := node[part].(map[string]any)
		if !ok {
			child = map[string]any{}
			node[part] = child
		}
		node = child
	}
	node[parts[len(parts)-1]] = value
}

func jsonRoundTrip(t *testing.T, value any) map[string]any {
	t.Helper()
	encoded, err := json.Marshal(value)
	if err != nil {
		t.Fatal(err)
	}
	var decoded map[string]any
	if err := json.Unmarshal(encoded, &decoded); err != nil {
		t.Fatal(err)
	}
	return decoded
}

// resolveSecrets replaces urn:k8s:secret:<name>:<key> strings with the
// value of the Secret documents, as Traefik's Kubernetes CRD provider does.
func resolveSecrets(t *testing.T, value any, documents []map[string]any) any {
	switch typed := value.(type) {
	case string:
		reference, isSecret := strings.CutPrefix(typed, "urn:k8s:secret:")
		if !isSecret {
			return typed
		}
		name, key, _ := strings.Cut(reference, ":")
		return secretValue(t, documents, name, key)
	case []any:
		for i := range typed {
			typed[i] = resolveSecrets(t, typed[i], documents)
		}
	case map[string]any:
		for name := range typed {
			typed[name] = resolveSecrets(t, typed[name], documents)
		}
	}
	return value
}

func secretValue(t *testing.T, documents []map[string]any, name, key string) string {
	t.Helper()
	for _, document := range documents {
		if document["kind"] == "Secret" && lookup(document, "metadata", "name") == name {
			if value, ok := lookup(document, "stringData", key).(string); ok {
				return value
			}
		}
	}
	t.Fatalf("Kubernetes example has no Secret %s with key %s", name, key)
	return ""
}

// TestDocsExamplesUnderYaegi starts every middleware of the docs' examples
// under Yaegi and sends each the request the docs describe.
func TestDocsExamplesUnderYaegi(t *testing.T) {
	t.Setenv(docsKeyEnv, casetable.Key)
	plugin := loadPlugin(t)
	examples := readDocExamples(t)

	formats := map[string]bool{}
	for _, example := range examples {
		if isRESTExample(example) {
			// TestDocsRESTExampleUnderYaegi runs it against a mock of the API.
			continue
		}
		formats[example.format] = true
		for _, name := range []string{"daily-validate", "daily-mint"} {
			if example.middlewares[name] == nil {
				t.Errorf("%s example has no middleware %s", example.format, name)
			}
		}
		t.Run(example.format, func(t *testing.T) {
			for name, options := range example.middlewares {
				upstream := &recordingUpstream{}
				handler, err := plugin.NewMiddleware(context.Background(), options, upstream, name+"@docs")
				if err != nil {
					t.Fatalf("%s: New: %v (options %v)", name, err, options)
				}
				server := serve(t, handler)
				switch name {
				case "daily-validate":
					checkDocsValidate(t, server, example.key, upstream)
				case "daily-mint":
					checkDocsMint(t, server, example.key)
				default:
					t.Errorf("unexpected middleware %s in the %s example", name, example.format)
				}
			}
		})
	}

	for _, format := range []string{"file provider yaml", "file provider toml", "Docker labels", "Kubernetes"} {
		if !formats[format] {
			t.Errorf("docs have no %s example", format)
		}
	}
}

// checkDocsValidate sends a valid token for the path's room, which must
// pass without the token, and one for another room.
func checkDocsValidate(t *testing.T, server *httptest.Server, key string, upstream *recordingUpstream) {
	t.Helper()
	token := casetable.Sign(key, casetable.HS256Header, casetable.ValidClaims(time.Now()))
	header := http.Header{"Authorization": {"Bearer " + token}}
	response, body := send(t, server, casetable.Request{Method: http.MethodGet, Target: "/rooms/" + casetable.Room + "/chat", Header: header})
	if response.StatusCode != http.StatusOK {
		t.Fatalf("daily-validate: status = %d, expected 200; body %s", response.StatusCode, body)
	}
	received := upstream.last()
	if received.Header.Get("X-Daily-Room") != casetable.Room || received.Header.Get("Authorization") != "" {
		t.Errorf("daily-validate: upstream headers %v, expected X-Daily-Room and no Authorization", received.Header)
	}

	response, body = send(t, server, casetable.Request{Method: http.MethodGet, Target: "/rooms/retro", Header: header})
	if response.StatusCode != http.StatusForbidden {
		t.Errorf("daily-validate, other room: status = %d, expected 403; body %s", response.StatusCode, body)
	}
}

// checkDocsMint requests a token as a signed-in user and checks its claims.
func checkDocsMint(t *testing.T, server *httptest.Server, key string) {
	t.Helper()
	header := http.Header{"X-Auth-User": {"user-7"}, "X-Auth-Name": {"Grace"}}
	response, body := send(t, server, casetable.Request{Method: http.MethodPost, Target: "/rooms/" + casetable.Room + "/token", Header: header})
	if response.StatusCode != http.StatusOK {
		t.Fatalf("daily-mint: status = %d, expected 200; body %s", response.StatusCode, body)
	}
	var minted map[string]string
	if err := json.Unmarshal(body, &minted); err != nil {
		t.Fatalf("daily-mint: body %s: %v", body, err)
	}
	claims, err := casetable.VerifyToken(key, minted["token"])
	if err != nil {
		t.Fatalf("daily-mint: token does not verify with the example's key: %v", err)
	}

	want := map[string]any{
		"r":  casetable.Room,
		"ud": "user-7",
		"u":  "Grace",
		"o":  false,
		"p":  map[string]any{"hp": true, "cs": "v,a"},
	}
	for name, value := range want {
		if !reflect.DeepEqual(claims[name], value) {
			t.Errorf("daily-mint: claim %s = %#v, expected %#v", name, claims[name], value)
		}
	}
	if lifetime := claims["exp"].(float64) - claims["iat"].(float64); lifetime != 600 {
		t.Errorf("daily-mint: lifetime = %v s, expected 600", lifetime)
	}
}
