// Package yaegiharness loads a Traefik middleware plugin into the Yaegi
// interpreter the way the plugin loader of Traefik v3 (traefik/traefik,
// pkg/plugins, Yaegi v0.16.1) does, so tests can drive the interpreted
// middleware with real HTTP requests.
//
// The loader steps it reproduces:
//   - the plugin module sits under <GOPATH>/src/<module path>, the layout of a
//     local plugin in plugins-local/ and of a downloaded one;
//   - the manifest .traefik.yml is read from that copy and checked as Traefik
//     checks a local plugin's manifest;
//   - the interpreter runs in Yaegi's default restricted mode (Traefik does
//     not set Options.Unrestricted) with GoPath, the process environment and
//     stdlib.Symbols only. Traefik adds the unsafe and syscall symbols only
//     when both the manifest and the static configuration set useUnsafe,
//     which is off by default, so the harness rejects useUnsafe;
//   - `import "<manifest import>"` is evaluated, then <base package>.New and
//     <base package>.CreateConfig;
//   - each middleware gets a fresh config from CreateConfig, decoded from the
//     dynamic configuration map with mitchellh/mapstructure, WeaklyTypedInput
//     and a "," string-to-slice hook, and skipped when the map is empty;
//   - New is called with (ctx, next, config, middleware name). A non-nil
//     second result is returned as the error, otherwise the first result must
//     be an http.Handler.
package yaegiharness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/mitchellh/mapstructure"
	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
)

// Plugin is a middleware plugin imported into its own interpreter. Traefik
// creates one interpreter per plugin and builds every middleware that uses
// the plugin from it, so package-level variables are shared between the
// middlewares of one Plugin as they are in Traefik.
type Plugin struct {
	// Interpreter is the interpreter that imported the plugin package.
	Interpreter *interp.Interpreter
	// Manifest is the plugin's .traefik.yml.
	Manifest Manifest
	// ModulePath is the module path from the plugin's go.mod.
	ModulePath string

	newFunc          reflect.Value
	createConfigFunc reflect.Value
}

// NewInterpreter copies the module at moduleRoot into a GOPATH under
// tb.TempDir() and returns an interpreter set up as Traefik sets up one for a
// plugin, with no package imported yet. Tests of a package that the plugin
// imports evaluate `import "<package path>"` in it with Eval. NewInterpreter
// fails the test if the copy fails.
func NewInterpreter(tb testing.TB, moduleRoot string) *interp.Interpreter {
	tb.Helper()

	goPath, _ := setUpGoPath(tb, moduleRoot)

	return newInterpreter(tb, goPath)
}

// LoadPlugin copies the module at moduleRoot into a GOPATH, reads and checks
// its manifest, imports the manifest's package and looks up New and
// CreateConfig. It returns an error in the cases where Traefik would fail to
// start with this plugin as a local middleware plugin, and fails the test only
// when the copy itself fails.
func LoadPlugin(tb testing.TB, moduleRoot string) (*Plugin, error) {
	tb.Helper()

	goPath, modulePath := setUpGoPath(tb, moduleRoot)

	manifest, err := ReadManifest(filepath.Join(goPath, "src", filepath.FromSlash(modulePath)))
	if err != nil {
		return nil, err
	}

	if err := checkLoadable(manifest, modulePath); err != nil {
		return nil, err
	}

	i := newInterpreter(tb, goPath)

	if _, err := evalRecovering(i, fmt.Sprintf("import %q", manifest.Import)); err != nil {
		return nil, fmt.Errorf("import plugin package %q: %w", manifest.Import, err)
	}

	basePackage := manifest.basePackage()

	newFunc, err := evalRecovering(i, basePackage+".New")
	if err != nil {
		return nil, fmt.Errorf("evaluate %s.New: %w", basePackage, err)
	}

	createConfigFunc, err := evalRecovering(i, basePackage+".CreateConfig")
	if err != nil {
		return nil, fmt.Errorf("evaluate %s.CreateConfig: %w", basePackage, err)
	}

	plugin := &Plugin{
		Interpreter:      i,
		Manifest:         manifest,
		ModulePath:       modulePath,
		newFunc:          newFunc,
		createConfigFunc: createConfigFunc,
	}

	return plugin, nil
}

// LoadMiddleware loads the plugin at moduleRoot with LoadPlugin and builds one
// middleware from it with NewMiddleware, using tb.Context() as the context
// passed to New. It returns the error of the first step that failed,
// including the error that New returned.
func LoadMiddleware(tb testing.TB, moduleRoot string, dynamicConfig map[string]any, next http.Handler, name string) (http.Handler, error) {
	tb.Helper()

	plugin, err := LoadPlugin(tb, moduleRoot)
	if err != nil {
		return nil, err
	}

	return plugin.NewMiddleware(tb.Context(), dynamicConfig, next, name)
}

// NewMiddleware builds one middleware as Traefik builds it for a router:
// DecodeConfig on dynamicConfig, then New. Traefik passes the qualified
// middleware name, such as "my-middleware@file", as name. next must not be nil.
func (p *Plugin) NewMiddleware(ctx context.Context, dynamicConfig map[string]any, next http.Handler, name string) (http.Handler, error) {
	config, err := p.DecodeConfig(dynamicConfig)
	if err != nil {
		return nil, err
	}

	return p.New(ctx, next, config, name)
}

// DecodeConfig calls the plugin's CreateConfig and decodes dynamicConfig into
// the returned value with Traefik's mapstructure options. Map keys match
// field names case-insensitively, strings convert to numbers and booleans,
// "a,b" becomes a two-element slice, and unknown keys are ignored without an
// error, as in Traefik. An empty dynamicConfig leaves CreateConfig's defaults
// untouched. The result is a pointer to the interpreted config type, so tests
// read its fields with reflect.
func (p *Plugin) DecodeConfig(dynamicConfig map[string]any) (reflect.Value, error) {
	results := p.createConfigFunc.Call(nil)
	if len(results) != 1 {
		return reflect.Value{}, fmt.Errorf("CreateConfig returned %d values, expected 1", len(results))
	}

	config := results[0]
	if len(dynamicConfig) == 0 {
		return config, nil
	}

	decoder, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		DecodeHook:       mapstructure.StringToSliceHookFunc(","),
		WeaklyTypedInput: true,
		Result:           config.Interface(),
	})
	if err != nil {
		return reflect.Value{}, fmt.Errorf("create config decoder: %w", err)
	}

	if err := decoder.Decode(dynamicConfig); err != nil {
		return reflect.Value{}, fmt.Errorf("decode dynamic configuration: %w", err)
	}

	return config, nil
}

// New calls the plugin's New with config, a value from DecodeConfig, and
// returns the handler or the error that New returned. next must not be nil.
func (p *Plugin) New(ctx context.Context, next http.Handler, config reflect.Value, name string) (http.Handler, error) {
	args := []reflect.Value{reflect.ValueOf(ctx), reflect.ValueOf(next), config, reflect.ValueOf(name)}
	results := p.newFunc.Call(args)

	if len(results) > 1 && results[1].Interface() != nil {
		err, ok := results[1].Interface().(error)
		if !ok {
			return nil, fmt.Errorf("New returned %T as its error, expected an error", results[1].Interface())
		}

		return nil, err
	}

	handler, ok := results[0].Interface().(http.Handler)
	if !ok {
		return nil, fmt.Errorf("New returned %T, expected an http.Handler", results[0].Interface())
	}

	return handler, nil
}

// Eval evaluates src in i and returns its value, failing the test if Yaegi
// returns an error or panics. src is Go source: an import declaration, other
// declarations, or an expression such as `tokencore.ParseSomething("x")`.
func Eval(tb testing.TB, i *interp.Interpreter, src string) reflect.Value {
	tb.Helper()

	value, err := evalRecovering(i, src)
	if err != nil {
		tb.Fatalf("yaegi: evaluate %q: %v", src, err)
	}

	return value
}

// evalRecovering evaluates src and turns a panic inside Yaegi into an error.
// Yaegi v0.16.1 returns an error for most unsupported code but panics while
// compiling some, such as `for i := range 3`. Traefik's loader calls Eval
// without a recover, so there the panic escapes the plugin loader.
func evalRecovering(i *interp.Interpreter, src string) (value reflect.Value, err error) {
	defer func() {
		if recovered := recover(); recovered != nil {
			err = fmt.Errorf("yaegi panicked: %v", recovered)
		}
	}()

	return i.Eval(src)
}

// checkLoadable rejects a manifest that Traefik would not load as a Yaegi
// middleware plugin with its default settings.
func checkLoadable(manifest Manifest, modulePath string) error {
	if err := manifest.Validate(modulePath); err != nil {
		return fmt.Errorf("invalid plugin manifest: %w", err)
	}

	if manifest.Type != "middleware" || !manifest.isYaegi() {
		return fmt.Errorf("plugin type %q with runtime %q is not supported: the harness loads Yaegi middleware plugins only", manifest.Type, manifest.Runtime)
	}

	if manifest.UseUnsafe {
		return errors.New("plugin manifest sets useUnsafe, which Traefik rejects unless the static configuration allows it: remove unsafe and syscall imports")
	}

	return nil
}

func setUpGoPath(tb testing.TB, moduleRoot string) (goPath, modulePath string) {
	tb.Helper()

	goPath = tb.TempDir()

	modulePath, err := copyModuleToGoPath(moduleRoot, goPath)
	if err != nil {
		tb.Fatalf("set up plugin GOPATH: %v", err)
	}

	return goPath, modulePath
}

// newInterpreter creates an interpreter with the options Traefik uses.
// Traefik sets Stdout to its log at debug level and Stderr to its log at error
// level, and the harness sets both to the test log. Yaegi sends fmt.Print*
// and the log package's functions there, while os.Stdout and os.Stderr in
// interpreted code stay the process's streams unless YAEGI_SPECIAL_STDIO is
// set, in Traefik as here.
func newInterpreter(tb testing.TB, goPath string) *interp.Interpreter {
	tb.Helper()

	i := interp.New(interp.Options{
		GoPath: goPath,
		Env:    os.Environ(),
		Stdout: newTestLogWriter(tb, "plugin stdout: "),
		Stderr: newTestLogWriter(tb, "plugin stderr: "),
	})

	if err := i.Use(stdlib.Symbols); err != nil {
		tb.Fatalf("yaegi: load standard library symbols: %v", err)
	}

	return i
}

// testLogWriter writes each Write call to the test log as one entry. It drops
// writes once its cleanup function has run, because testing.TB panics on a Log
// call after the test has finished and an interpreted handler can still run on
// a server goroutine then. Cleanups run last-in first-out, so an httptest
// server that the test starts later is closed before writes are dropped.
type testLogWriter struct {
	tb     testing.TB
	prefix string

	mu       sync.Mutex
	finished bool
}

func newTestLogWriter(tb testing.TB, prefix string) *testLogWriter {
	writer := &testLogWriter{tb: tb, prefix: prefix}

	tb.Cleanup(func() {
		writer.mu.Lock()
		defer writer.mu.Unlock()

		writer.finished = true
	})

	return writer
}

func (w *testLogWriter) Write(data []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()

	if !w.finished {
		w.tb.Log(w.prefix + strings.TrimRight(string(data), "\n"))
	}

	return len(data), nil
}
