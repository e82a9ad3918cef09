package yaegiharness

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCopyModuleToGoPathSelection(t *testing.T) {
	moduleRoot := t.TempDir()
	files := map[string]string{
		"go.mod":                      "module example.com/copied\n",
		ManifestFile:                  "import: example.com/copied/plugin\n",
		"README.md":                   "# copied\n",
		"plugin/plugin.go":            "package plugin\n",
		"plugin/plugin_test.go":       "package plugin\n",
		"plugin/testdata/fixture.go":  "package fixture\n",
		"core/core.go":                "package core\n",
		"core/go.mod":                 "module example.com/copied/core\n",
		"cmd/tool/main.go":            "package main\n",
		"caddymodule/caddy.go":        "package caddymodule\n",
		"test/harness.go":             "package test\n",
		".git/hooks/hook.go":          "package hooks\n",
		"_scratch/scratch.go":         "package scratch\n",
		"vendor/example.org/dep/d.go": "package dep\n",
	}
	for name, content := range files {
		path := filepath.Join(moduleRoot, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	goPath := t.TempDir()
	modulePath, err := copyModuleToGoPath(moduleRoot, goPath)
	if err != nil {
		t.Fatalf("copyModuleToGoPath: %v", err)
	}

	if modulePath != "example.com/copied" {
		t.Errorf("module path = %q, want example.com/copied", modulePath)
	}

	copiedRoot := filepath.Join(goPath, "src", "example.com", "copied")
	var copied []string
	walkErr := filepath.WalkDir(copiedRoot, func(path string, entry fs.DirEntry, err error) error {
		if err != nil || entry.IsDir() {
			return err
		}
		rel, err := filepath.Rel(copiedRoot, path)
		copied = append(copied, filepath.ToSlash(rel))
		return err
	})
	if walkErr != nil {
		t.Fatalf("walk copy: %v", walkErr)
	}
	slices.Sort(copied)

	// core/ has its own go.mod, so it is a nested module and stays out.
	want := []string{".traefik.yml", "go.mod", "plugin/plugin.go", "vendor/example.org/dep/d.go"}
	if !slices.Equal(copied, want) {
		t.Errorf("copied files = %q, want %q", copied, want)
	}
}

func TestCopyModuleToGoPathNoGoMod(t *testing.T) {
	_, err := copyModuleToGoPath(t.TempDir(), t.TempDir())

	if err == nil || !strings.Contains(err.Error(), "go.mod") {
		t.Errorf("error = %v, want one that names go.mod", err)
	}
}

func TestManifestBasePackage(t *testing.T) {
	tests := []struct {
		manifest Manifest
		want     string
	}{
		{Manifest{Import: "github.com/dailytoken/dailytoken/traefikplugin"}, "traefikplugin"},
		{Manifest{Import: "github.com/example/my-plugin"}, "my_plugin"},
		{Manifest{Import: "github.com/example/my-plugin", BasePkg: "plugin"}, "plugin"},
	}

	for _, test := range tests {
		if got := test.manifest.basePackage(); got != test.want {
			t.Errorf("basePackage() for import %q, basePkg %q = %q, want %q",
				test.manifest.Import, test.manifest.BasePkg, got, test.want)
		}
	}
}

func TestManifestValidate(t *testing.T) {
	valid := Manifest{
		DisplayName: "Echo",
		Type:        "middleware",
		Import:      "example.com/echo/plugin",
		Summary:     "Echo.",
		TestData:    map[string]any{},
	}

	tests := []struct {
		name      string
		change    func(*Manifest)
		wantError string
	}{
		{name: "valid", change: func(*Manifest) {}},
		{name: "wasm runtime", change: func(m *Manifest) { m.Runtime = "wasm" }},
		{name: "unknown type", change: func(m *Manifest) { m.Type = "router" }, wantError: `unsupported type "router"`},
		{name: "unknown runtime", change: func(m *Manifest) { m.Runtime = "lua" }, wantError: `unsupported runtime "lua"`},
		{name: "wasm provider", change: func(m *Manifest) { m.Type = "provider"; m.Runtime = "wasm" }, wantError: `unsupported runtime "wasm"`},
		{name: "missing import", change: func(m *Manifest) { m.Import = "" }, wantError: "missing import"},
		{name: "import outside module", change: func(m *Manifest) { m.Import = "example.org/other" }, wantError: "is not inside module"},
		{name: "missing displayName", change: func(m *Manifest) { m.DisplayName = "" }, wantError: "missing displayName"},
		{name: "missing summary", change: func(m *Manifest) { m.Summary = "" }, wantError: "missing summary"},
		{name: "missing testData", change: func(m *Manifest) { m.TestData = nil }, wantError: "missing testData"},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			manifest := valid
			test.change(&manifest)

			err := manifest.Validate("example.com/echo")

			if test.wantError == "" {
				if err != nil {
					t.Errorf("Validate: %v, want no error", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), test.wantError) {
				t.Errorf("Validate error = %v, want it to contain %q", err, test.wantError)
			}
		})
	}
}

func TestReadManifestFixture(t *testing.T) {
	manifest, err := ReadManifest("testdata/fakeplugin")
	if err != nil {
		t.Fatalf("ReadManifest: %v", err)
	}

	if manifest.DisplayName != "Header Echo" {
		t.Errorf("DisplayName = %q, want %q", manifest.DisplayName, "Header Echo")
	}
	if manifest.Type != "middleware" {
		t.Errorf("Type = %q, want middleware", manifest.Type)
	}
	if manifest.Import != "example.com/fakeplugin/headerecho" {
		t.Errorf("Import = %q, want example.com/fakeplugin/headerecho", manifest.Import)
	}
	if manifest.Summary == "" {
		t.Error("Summary is empty")
	}
	if got := manifest.TestData["count"]; got != 2 {
		t.Errorf("TestData[count] = %#v, want 2", got)
	}
}

func TestEvalRecoveringPanic(t *testing.T) {
	i := newInterpreter(t, t.TempDir())

	// Yaegi v0.16.1 panics with "nil type" while compiling a range over an
	// integer. NOTE: pick another panicking input if a Yaegi upgrade fixes it.
	_, err := evalRecovering(i, "func count() int { n := 0; for range 3 { n++ }; return n }")

	if err == nil || !strings.Contains(err.Error(), "yaegi panicked") {
		t.Errorf("error = %v, want a recovered Yaegi panic", err)
	}
}
