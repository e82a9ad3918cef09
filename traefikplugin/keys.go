package traefikplugin

import (
	"fmt"
	"os"
	"strings"
)

// kubernetesSecretPrefix starts a reference to a Kubernetes secret, such as
// urn:k8s:secret:daily-api:key, which Traefik's Kubernetes CRD provider
// replaces with the secret's value in plugin options.
const kubernetesSecretPrefix = "urn:k8s:secret:"

// loadKeys collects the keys in their documented order: keys, then keyFile,
// then keyEnv. Errors name the option and never contain a key.
func (c *Config) loadKeys() ([][]byte, error) {
	var keys [][]byte
	for i := 0; i < len(c.Keys); i++ {
		if c.Keys[i] == "" {
			return nil, fmt.Errorf("keys[%d] is empty", i)
		}
		if strings.HasPrefix(c.Keys[i], kubernetesSecretPrefix) {
			// Used as it is, the reference itself would be the key, and
			// anyone who can read the configuration could sign tokens.
			return nil, fmt.Errorf("keys[%d] is a Kubernetes secret reference that Traefik did not resolve: Traefik resolves %s only in the plugin options of a Kubernetes Middleware resource", i, kubernetesSecretPrefix)
		}
		keys = append(keys, []byte(c.Keys[i]))
	}

	if c.KeyFile != "" {
		fileKeys, err := readKeyFile(c.KeyFile)
		if err != nil {
			return nil, err
		}
		keys = append(keys, fileKeys...)
	}

	if c.KeyEnv != "" {
		value, found := os.LookupEnv(c.KeyEnv)
		if !found {
			return nil, fmt.Errorf("keyEnv: environment variable %s is not set", c.KeyEnv)
		}
		if value == "" {
			return nil, fmt.Errorf("keyEnv: environment variable %s is empty", c.KeyEnv)
		}
		keys = append(keys, []byte(value))
	}

	if len(keys) == 0 {
		return nil, fmt.Errorf("no key configured: set keys, keyFile or keyEnv")
	}
	return keys, nil
}

// readKeyFile returns the keys in path, one per line.
func readKeyFile(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keyFile: %v", err)
	}

	lines := strings.Split(string(data), "\n")
	if lines[len(lines)-1] == "" {
		// the newline that ends the last line
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("keyFile %s is empty", path)
	}

	keys := make([][]byte, 0, len(lines))
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSuffix(lines[i], "\r")
		if line == "" {
			return nil, fmt.Errorf("keyFile %s: line %d is empty", path, i+1)
		}
		keys = append(keys, []byte(line))
	}
	return keys, nil
}
