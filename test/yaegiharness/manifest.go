package yaegiharness

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// ManifestFile is the name of the plugin manifest that Traefik reads from the
// root of a plugin module.
const ManifestFile = ".traefik.yml"

// Manifest is the content of a plugin's .traefik.yml, with the keys that
// Traefik v3 reads.
type Manifest struct {
	DisplayName   string         `yaml:"displayName"`
	Type          string         `yaml:"type"`
	Runtime       string         `yaml:"runtime"`
	WasmPath      string         `yaml:"wasmPath"`
	Import        string         `yaml:"import"`
	BasePkg       string         `yaml:"basePkg"`
	Compatibility string         `yaml:"compatibility"`
	Summary       string         `yaml:"summary"`
	UseUnsafe     bool           `yaml:"useUnsafe"`
	TestData      map[string]any `yaml:"testData"`
}

// ReadManifest decodes the .traefik.yml at the root of moduleRoot with
// gopkg.in/yaml.v3, the decoder Traefik v3 uses for manifests. Like Traefik,
// it ignores unknown keys.
func ReadManifest(moduleRoot string) (Manifest, error) {
	manifestPath := filepath.Join(moduleRoot, ManifestFile)

	file, err := os.Open(manifestPath)
	if err != nil {
		return Manifest{}, fmt.Errorf("open plugin manifest: %w", err)
	}
	defer file.Close()

	var manifest Manifest
	if err := yaml.NewDecoder(file).Decode(&manifest); err != nil {
		return Manifest{}, fmt.Errorf("decode plugin manifest %s: %w", manifestPath, err)
	}

	return manifest, nil
}

// Validate applies the checks that Traefik v3 runs on the manifest of a local
// plugin at startup (SetupLocalPlugins), so a test catches a manifest that
// Traefik would reject. moduleName is the module path the plugin is declared
// under in Traefik's static configuration. Validate returns every failed check
// joined into one error.
func (m Manifest) Validate(moduleName string) error {
	var errs []error

	switch m.Type {
	case "middleware":
		if m.Runtime != "yaegi" && m.Runtime != "wasm" && m.Runtime != "" {
			errs = append(errs, fmt.Errorf("unsupported runtime %q for a middleware plugin: use yaegi, wasm or leave it empty", m.Runtime))
		}
	case "provider":
		if m.Runtime != "yaegi" && m.Runtime != "" {
			errs = append(errs, fmt.Errorf("unsupported runtime %q for a provider plugin: use yaegi or leave it empty", m.Runtime))
		}
	default:
		errs = append(errs, fmt.Errorf("unsupported type %q: use middleware or provider", m.Type))
	}

	if m.isYaegi() {
		if m.Import == "" {
			errs = append(errs, errors.New("missing import"))
		}
		if !strings.HasPrefix(m.Import, moduleName) {
			errs = append(errs, fmt.Errorf("import %q is not inside module %q", m.Import, moduleName))
		}
	}

	if m.DisplayName == "" {
		errs = append(errs, errors.New("missing displayName"))
	}
	if m.Summary == "" {
		errs = append(errs, errors.New("missing summary"))
	}
	if m.TestData == nil {
		errs = append(errs, errors.New("missing testData"))
	}

	return errors.Join(errs...)
}

// isYaegi reports whether Traefik runs the plugin in Yaegi. An empty runtime
// means Yaegi because manifests written before wasm support have no runtime key.
func (m Manifest) isYaegi() bool {
	return m.Runtime == "yaegi" || m.Runtime == ""
}

// basePackage returns the package name under which Traefik evaluates New and
// CreateConfig: the manifest's basePkg if set, otherwise the last element of
// the import path with every "-" replaced by "_".
func (m Manifest) basePackage() string {
	if m.BasePkg != "" {
		return m.BasePkg
	}

	return strings.ReplaceAll(path.Base(m.Import), "-", "_")
}
