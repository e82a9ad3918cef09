package yaegiharness

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
)

// skippedDirs are the directory names that the GOPATH copy leaves out at any
// depth: version control, test data, and this repository's Caddy adapter,
// commands and test module. The plugin must not import the Caddy adapter,
// and leaving it out makes such an import fail in the harness as it fails in
// Traefik, whose plugin GOPATH has none of Caddy's dependencies.
var skippedDirs = map[string]bool{
	".git":        true,
	"caddymodule": true,
	"cmd":         true,
	"test":        true,
	"testdata":    true,
}

// copyModuleToGoPath copies the plugin's Go sources, go.mod and manifest from
// moduleRoot to goPath/src/<module path>, the layout in which Traefik unpacks
// a downloaded plugin or expects a local one (plugins-local/src/<module path>),
// and returns the module path read from go.mod.
//
// The copy leaves out _test.go files, the directories in skippedDirs, hidden
// and "_" directories, and nested modules (a directory with its own go.mod),
// which are not part of the plugin's module. It keeps vendor/, where Yaegi
// looks up imports from outside the module.
func copyModuleToGoPath(moduleRoot, goPath string) (string, error) {
	goModData, err := os.ReadFile(filepath.Join(moduleRoot, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("read plugin go.mod: %w", err)
	}

	modulePath := modfile.ModulePath(goModData)
	if modulePath == "" {
		return "", fmt.Errorf("no module directive in %s", filepath.Join(moduleRoot, "go.mod"))
	}

	destRoot := filepath.Join(goPath, "src", filepath.FromSlash(modulePath))

	walkErr := filepath.WalkDir(moduleRoot, func(srcPath string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}

		relPath, err := filepath.Rel(moduleRoot, srcPath)
		if err != nil {
			return err
		}

		if entry.IsDir() {
			if relPath != "." && isSkippedDir(srcPath, entry.Name()) {
				return filepath.SkipDir
			}

			return nil
		}

		if !entry.Type().IsRegular() || !isCopiedFile(relPath, entry.Name()) {
			return nil
		}

		return copyFile(srcPath, filepath.Join(destRoot, relPath))
	})
	if walkErr != nil {
		return "", fmt.Errorf("copy %s to GOPATH %s: %w", moduleRoot, goPath, walkErr)
	}

	return modulePath, nil
}

func isSkippedDir(dirPath, name string) bool {
	if skippedDirs[name] || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
		return true
	}

	_, err := os.Stat(filepath.Join(dirPath, "go.mod"))

	return err == nil
}

// isCopiedFile reports whether the file at relPath, relative to the module
// root, belongs in the GOPATH copy. The manifest and go.mod count only at the
// root.
func isCopiedFile(relPath, name string) bool {
	if relPath == ManifestFile || relPath == "go.mod" {
		return true
	}

	return strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")
}

func copyFile(srcPath, destPath string) error {
	if err := os.MkdirAll(filepath.Dir(destPath), 0o755); err != nil {
		return err
	}

	src, err := os.Open(srcPath)
	if err != nil {
		return err
	}
	defer src.Close()

	dest, err := os.Create(destPath)
	if err != nil {
		return err
	}

	if _, err := io.Copy(dest, src); err != nil {
		dest.Close()
		return err
	}

	return dest.Close()
}
