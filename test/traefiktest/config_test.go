package traefiktest

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/modfile"

	"github.com/dailytoken/dailytoken/internal/casetable"
	"github.com/dailytoken/dailytoken/test/yaegiharness"
)

// secretKey is the key of the configuration error cases. No error message
// may contain it.
const secretKey = "secret-key-that-must-not-appear-in-messages"

// configErrorCases are configurations that New must reject, with the parts
// its message must contain.
func configErrorCases(t *testing.T) []struct {
	name    string
	options map[string]any
	want    []string
} {
	dir := t.TempDir()
	emptyLine := filepath.Join(dir, "empty-line")
	emptyFile := filepath.Join(dir, "empty-file")
	writeFile(t, emptyLine, secretKey+"\n\n"+secretKey+"\n")
	writeFile(t, emptyFile, "")

	validate := func(changes map[string]any) map[string]any {
		options := map[string]any{"mode": "validate", "keys": []any{secretKey}}
		for key, value := range changes {
			options[key] = value
		}
		return options
	}
	mint := func(changes map[string]any) map[string]any {
		options := map[string]any{"mode": "mint", "keys": []any{secretKey}}
		for key, value := range changes {
			options[key] = value
		}
		return options
	}

	return []struct {
		name    string
		options map[string]any
		want    []string
	}{
		{"no options", map[string]any{}, []string{"mode is not set"}},
		{"no mode", map[string]any{"keys": []any{secretKey}}, []string{"mode is not set", "validate", "mint"}},
		{"unknown mode", validate(map[string]any{"mode": "verify"}), []string{`mode "verify" is unknown`}},
		{"mode in other case", validate(map[string]any{"mode": "Validate"}), []string{`mode "Validate" is unknown`}},
		{"no key", map[string]any{"mode": "validate"}, []string{"no key configured", "keys", "keyFile", "keyEnv"}},
		{"empty key", validate(map[string]any{"keys": []any{""}}), []string{"keys[0] is empty"}},
		{"empty second key", validate(map[string]any{"keys": []any{secretKey, ""}}), []string{"keys[1] is empty"}},
		{"empty key from label", validate(map[string]any{"keys": secretKey + ","}), []string{"keys[1] is empty"}},
		{"unresolved secret reference", validate(map[string]any{"keys": []any{"urn:k8s:secret:daily:key"}}), []string{"keys[0]", "Kubernetes secret reference"}},
		{"missing key file", validate(map[string]any{"keys": nil, "keyFile": filepath.Join(dir, "missing")}), []string{"keyFile", "no such file"}},
		{"empty line in key file", validate(map[string]any{"keyFile": emptyLine}), []string{"keyFile", "line 2 is empty"}},
		{"empty key file", validate(map[string]any{"keyFile": emptyFile}), []string{"keyFile", "is empty"}},
		{"unset key variable", validate(map[string]any{"keyEnv": "DAILYTOKEN_TEST_UNSET"}), []string{"keyEnv", "DAILYTOKEN_TEST_UNSET is not set"}},
		{"empty key variable", validate(map[string]any{"keyEnv": "DAILYTOKEN_TEST_EMPTY"}), []string{"keyEnv", "DAILYTOKEN_TEST_EMPTY is empty"}},
		{"leeway in words", validate(map[string]any{"leeway": "5 minutes"}), []string{`leeway "5 minutes" is not a duration`}},
		{"leeway without unit", validate(map[string]any{"leeway": 30}), []string{`leeway "30" is not a duration`, "missing unit"}},
		{"negative max lifetime", validate(map[string]any{"maxLifetime": "-1h"}), []string{`maxLifetime "-1h" is negative`}},
		{"zero max lifetime", validate(map[string]any{"maxLifetime": "0s"}), []string{`maxLifetime "0s" is zero`, "off"}},
		{"zero lifetime", mint(map[string]any{"lifetime": "0s"}), []string{`lifetime "0s" must be positive`}},
		{"bad lifetime", mint(map[string]any{"lifetime": "1 hour"}), []string{`lifetime "1 hour" is not a duration`}},
		{"unknown source", validate(map[string]any{"sources": []any{"bearer", "form:t"}}), []string{"sources[1]", `unknown kind "form"`}},
		{"source without name", validate(map[string]any{"sources": "query:"}), []string{"sources[0]", "missing query name"}},
		{"source twice", validate(map[string]any{"sources": "query:t,query:t"}), []string{"sources:", "listed twice"}},
		{"negative token size", validate(map[string]any{"maxTokenSize": -1}), []string{"maxTokenSize -1 is negative"}},
		{"unknown room placeholder", validate(map[string]any{"room": "{cookie.room}"}), []string{"room:", "unknown placeholder {cookie.room}"}},
		{"domain id with spaces", validate(map[string]any{"domainId": " 25df "}), []string{"domainId", "spaces"}},
		{"unknown permission", validate(map[string]any{"requirePermissions": []any{"hasPresence", "canShout"}}), []string{"requirePermissions[1]", `unknown name "canShout"`}},
		{"unknown medium", validate(map[string]any{"requirePermissions": "canSend:smell"}), []string{"requirePermissions[0]", `unknown medium "smell"`}},
		{"bad header prefix", validate(map[string]any{"headerPrefix": "X Daily "}), []string{"headerPrefix", "not allowed in a header name"}},
		{"unknown claim property", mint(map[string]any{"claims": map[string]any{"room": "standup"}}), []string{"claims:", `claim "room" is not a Daily meeting token property`}},
		{"templated exp", mint(map[string]any{"claims": map[string]any{"exp": "1"}}), []string{"claims:", "cannot be templated"}},
		{"non-boolean is_owner", mint(map[string]any{"claims": map[string]any{"is_owner": "yes"}}), []string{"claims:", "is_owner must be true or false"}},
		{"unknown lang", mint(map[string]any{"claims": map[string]any{"lang": "xx"}}), []string{"claims:", `lang "xx"`}},
		{"long fixed user_id", mint(map[string]any{"claims": map[string]any{"user_id": strings.Repeat("u", 37)}}), []string{"claims:", "user_id is 37 characters"}},
		{"bad permissions", mint(map[string]any{"claims": map[string]any{"permissions": map[string]any{"canSend": "everything"}}}), []string{"claims:", "permissions.canSend"}},
		{"unknown claim placeholder", mint(map[string]any{"claims": map[string]any{"user_id": "{cookie.user}"}}), []string{"claims:", "unknown placeholder {cookie.user}"}},
		{"unknown target", mint(map[string]any{"target": "body"}), []string{"target:", `"body"`}},
		{"target without name", mint(map[string]any{"target": "header:"}), []string{"target:", "missing header name"}},
		{"validate option on mint", mint(map[string]any{"room": "standup"}), []string{"option room is not used in mode mint"}},
		{"misspelt option", validate(map[string]any{"domain_id": "25df"}), []string{"unknown option domain_id", "domainId"}},
		{"several unknown options", validate(map[string]any{"rooms": "a", "Strip": true}), []string{"unknown option Strip, rooms"}},
		{"mint options on validate", validate(map[string]any{"claims": map[string]any{"user_id": "u"}, "target": "response"}), []string{"options claims, target are not used in mode validate"}},
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// checkConfigErrors builds each error case with factory and checks the
// message.
func checkConfigErrors(t *testing.T, factory middlewareFactory) {
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, c := range configErrorCases(t) {
		t.Run(c.name, func(t *testing.T) {
			handler, err := factory(context.Background(), c.options, next, "bad@file")
			if err == nil {
				t.Fatalf("New returned a handler (%T), expected an error containing %q", handler, c.want)
			}
			message := err.Error()
			mustContain(t, "error", message, c.want...)
			if !strings.HasPrefix(message, "dailytoken: ") {
				t.Errorf("error = %q, expected the prefix \"dailytoken: \"", message)
			}
			if strings.Contains(message, secretKey) {
				t.Errorf("error = %q contains the key", message)
			}
		})
	}
}

func TestNewRejectsConfigUnderYaegi(t *testing.T) {
	// The interpreter reads the environment as it was when it was created,
	// as in Traefik.
	t.Setenv("DAILYTOKEN_TEST_EMPTY", "")
	checkConfigErrors(t, interpretedFactory(loadPlugin(t)))
}

func TestNewRejectsConfigCompiled(t *testing.T) {
	t.Setenv("DAILYTOKEN_TEST_EMPTY", "")
	checkConfigErrors(t, compiledFactory)
}

// TestDecodeRejectsWrongType checks that a value of the wrong type fails in
// Traefik's decoder, before New, with a message naming the option.
func TestDecodeRejectsWrongType(t *testing.T) {
	plugin := loadPlugin(t)
	_, err := plugin.DecodeConfig(map[string]any{"mode": "validate", "maxTokenSize": "large"})
	if err == nil {
		t.Fatal("DecodeConfig accepted maxTokenSize \"large\", expected an error")
	}
	// mapstructure names the field, which Traefik matches without case.
	mustContain(t, "error", strings.ToLower(err.Error()), "maxtokensize")
}

// TestCreateConfigDefaults reads the defaults of the interpreted Config.
func TestCreateConfigDefaults(t *testing.T) {
	plugin := loadPlugin(t)
	config, err := plugin.DecodeConfig(nil)
	if err != nil {
		t.Fatal(err)
	}

	want := map[string]any{
		"Mode":                     "",
		"Keys":                     []string(nil),
		"KeyFile":                  "",
		"KeyEnv":                   "",
		"Sources":                  []string{"bearer", "query:t"},
		"Leeway":                   "30s",
		"MaxLifetime":              "",
		"AllowMissingExp":          false,
		"Room":                     "",
		"AllowRoomless":            false,
		"DomainID":                 "",
		"RequireOwner":             false,
		"RequirePermissions":       []string(nil),
		"StripToken":               false,
		"HeaderPrefix":             "X-Daily-",
		"AllowPreflight":           false,
		"MaxTokenSize":             4096,
		"Realm":                    "",
		"Claims":                   map[string]interface{}(nil),
		"Lifetime":                 "1h",
		"NotBefore":                false,
		"Target":                   "header:Authorization",
		"DailyAPI":                 false,
		"DailyAPIBaseURL":          "https://api.daily.co/v1",
		"DailyAPITimeout":          "3s",
		"DailyAPICacheTTL":         "1m",
		"DailyAPINegativeCacheTTL": "10s",
		"DailyAPICacheSize":        0,
		"DailyAPIMaxBackoff":       "1m",
		"UnknownOptions":           map[string]interface{}(nil),
	}
	value := config.Elem()
	if value.NumField() != len(want) {
		t.Errorf("Config has %d fields, the test knows %d: document the new default here", value.NumField(), len(want))
	}
	for name, expected := range want {
		field := value.FieldByName(name)
		if !field.IsValid() {
			t.Errorf("Config has no field %s", name)
			continue
		}
		if got := field.Interface(); !reflect.DeepEqual(got, expected) {
			t.Errorf("default %s = %#v, expected %#v", name, got, expected)
		}
	}
}

// TestSourcesReplaceDefault checks that a list option replaces the default
// list instead of overwriting its first elements, and that decoding does not
// change the next CreateConfig result.
func TestSourcesReplaceDefault(t *testing.T) {
	plugin := loadPlugin(t)
	config, err := plugin.DecodeConfig(map[string]any{"sources": []any{"cookie:daily"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := config.Elem().FieldByName("Sources").Interface(); !reflect.DeepEqual(got, []string{"cookie:daily"}) {
		t.Errorf("decoded sources = %q, expected [cookie:daily]", got)
	}

	fresh, err := plugin.DecodeConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := fresh.Elem().FieldByName("Sources").Interface(); !reflect.DeepEqual(got, []string{"bearer", "query:t"}) {
		t.Errorf("default sources after a decode = %q, expected [bearer query:t]", got)
	}
}

// TestManifestTestData starts the middleware from the manifest's testData,
// as the Plugin Catalog does, and validates a token signed with its key.
func TestManifestTestData(t *testing.T) {
	plugin := loadPlugin(t)
	upstream := &recordingUpstream{}
	handler, err := plugin.NewMiddleware(context.Background(), plugin.Manifest.TestData, upstream, "test")
	if err != nil {
		t.Fatalf("New with testData %v: %v", plugin.Manifest.TestData, err)
	}

	keys, _ := plugin.Manifest.TestData["keys"].([]any)
	if len(keys) != 1 {
		t.Fatalf("testData keys = %v, expected one demo key", plugin.Manifest.TestData["keys"])
	}
	key, _ := keys[0].(string)
	token := casetable.Sign(key, casetable.HS256Header, casetable.ValidClaims(time.Now()))

	server := serve(t, handler)
	response, body := send(t, server, casetable.Request{
		Method: http.MethodGet,
		Target: "/rooms/" + casetable.Room,
		Header: http.Header{"Authorization": {"Bearer " + token}},
	})
	if response.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, expected 200; body %s", response.StatusCode, body)
	}
	if got := upstream.last().Header.Get("X-Daily-Room"); got != casetable.Room {
		t.Errorf("upstream X-Daily-Room = %q, expected %q", got, casetable.Room)
	}
}

// TestModuleMeetsCatalogRules applies the Plugin Catalog's module checks:
// the manifest is complete, its import is inside the module, and the root
// go.mod requires neither Yaegi nor Traefik.
func TestModuleMeetsCatalogRules(t *testing.T) {
	manifest, err := yaegiharness.ReadManifest(moduleRoot)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(moduleRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goMod, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}

	if err := manifest.Validate(goMod.Module.Mod.Path); err != nil {
		t.Errorf("manifest: %v", err)
	}
	if manifest.Import != goMod.Module.Mod.Path+"/traefikplugin" {
		t.Errorf("manifest import = %q, expected %s/traefikplugin", manifest.Import, goMod.Module.Mod.Path)
	}
	for _, require := range goMod.Require {
		for _, banned := range []string{"github.com/traefik/yaegi", "github.com/traefik/traefik", "github.com/traefik/mesh", "github.com/containous/"} {
			if strings.Contains(require.Mod.Path, banned) {
				t.Errorf("root go.mod requires %s, which the Plugin Catalog rejects", require.Mod.Path)
			}
		}
	}
}

// TestKeySourcesUnderYaegi builds the key list from keys, keyFile and
// keyEnv, and checks that a token signed with each key validates.
func TestKeySourcesUnderYaegi(t *testing.T) {
	fileKeys := []string{"file-key-one", "file-key-two"}
	keyFile := filepath.Join(t.TempDir(), "keys")
	writeFile(t, keyFile, fileKeys[0]+"\r\n"+fileKeys[1]+"\n")
	t.Setenv("DAILYTOKEN_TEST_KEY", "env-key")

	plugin := loadPlugin(t)
	upstream := &recordingUpstream{}
	handler, err := plugin.NewMiddleware(context.Background(), map[string]any{
		"mode":    "validate",
		"keys":    []any{"inline-key"},
		"keyFile": keyFile,
		"keyEnv":  "DAILYTOKEN_TEST_KEY",
	}, upstream, "keys@file")
	if err != nil {
		t.Fatal(err)
	}
	server := serve(t, handler)

	for _, key := range []string{"inline-key", fileKeys[0], fileKeys[1], "env-key", "other-key"} {
		token := casetable.Sign(key, casetable.HS256Header, casetable.ValidClaims(time.Now()))
		response, body := send(t, server, casetable.Request{
			Method: http.MethodGet,
			Target: "/",
			Header: http.Header{"Authorization": {"Bearer " + token}},
		})
		want := http.StatusOK
		if key == "other-key" {
			want = http.StatusUnauthorized
		}
		if response.StatusCode != want {
			t.Errorf("token signed with %s: status = %d, expected %d; body %s", key, response.StatusCode, want, body)
		}
	}
}

// TestKeyLengthsUnderYaegi validates tokens signed with keys of 1, 17, 64
// and 200 bytes, and mints with each.
func TestKeyLengthsUnderYaegi(t *testing.T) {
	plugin := loadPlugin(t)
	for _, length := range []int{1, 17, 64, 200} {
		key := strings.Repeat("k", length-1) + "!"
		validate, err := plugin.NewMiddleware(context.Background(), map[string]any{"mode": "validate", "keys": key}, &recordingUpstream{}, "validate@file")
		if err != nil {
			t.Fatalf("%d-byte key: New: %v", length, err)
		}
		token := casetable.Sign(key, casetable.HS256Header, casetable.ValidClaims(time.Now()))
		response, body := send(t, serve(t, validate), casetable.Request{
			Method: http.MethodGet,
			Target: "/",
			Header: http.Header{"Authorization": {"Bearer " + token}},
		})
		if response.StatusCode != http.StatusOK {
			t.Errorf("%d-byte key: status = %d, expected 200; body %s", length, response.StatusCode, body)
		}

		mint, err := plugin.NewMiddleware(context.Background(), map[string]any{"mode": "mint", "keys": key, "target": "response"}, &recordingUpstream{}, "mint@file")
		if err != nil {
			t.Fatalf("%d-byte key: New mint: %v", length, err)
		}
		_, body = send(t, serve(t, mint), casetable.Request{Method: http.MethodPost, Target: "/token"})
		minted := strings.TrimSuffix(strings.TrimPrefix(string(body), `{"token":"`), `"}`)
		if _, err := casetable.VerifyToken(key, minted); err != nil {
			t.Errorf("%d-byte key: minted token does not verify: %v (body %s)", length, err, body)
		}
	}
}

// TestPluginPrintsNoSecrets starts middlewares with relaxed settings, which
// print a notice, and with bad settings, and checks that the plugin's
// standard output never contains a key or a token.
func TestPluginPrintsNoSecrets(t *testing.T) {
	recorder := newStdoutTB(t)
	plugin := loadPlugin(recorder)

	upstream := &recordingUpstream{}
	handler, err := plugin.NewMiddleware(context.Background(), map[string]any{
		"mode":            "validate",
		"keys":            secretKey,
		"room":            "{path.1}",
		"allowMissingExp": true,
		"allowRoomless":   true,
	}, upstream, "relaxed@file")
	if err != nil {
		t.Fatal(err)
	}
	token := casetable.Sign(secretKey, casetable.HS256Header, casetable.ValidClaims(time.Now()))
	server := serve(t, handler)
	for _, header := range []http.Header{{"Authorization": {"Bearer " + token}}, {"Authorization": {"Bearer " + casetable.Tamper(token)}}} {
		send(t, server, casetable.Request{Method: http.MethodGet, Target: "/rooms/standup", Header: header})
	}
	_, _ = plugin.NewMiddleware(context.Background(), map[string]any{"mode": "validate", "keys": []any{secretKey, ""}}, upstream, "broken@file")

	output := recorder.output()
	mustContain(t, "plugin output", output, "relaxed@file", "allowMissingExp", "allowRoomless")
	for _, secret := range []string{secretKey, token, strings.Split(token, ".")[2]} {
		if strings.Contains(output, secret) {
			t.Errorf("plugin output contains a key, token or signature: %q", output)
		}
	}
}
