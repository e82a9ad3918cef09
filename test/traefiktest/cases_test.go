package traefiktest

import (
	"testing"

	"github.com/dailytoken/dailytoken/internal/casetable"
)

// TestPluginCasesUnderYaegi runs every shared case through middlewares built
// by one interpreted plugin, as Traefik builds every router's middleware
// from one interpreter.
func TestPluginCasesUnderYaegi(t *testing.T) {
	factory := interpretedFactory(loadPlugin(t))
	for _, c := range casetable.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			runCase(t, factory, c)
		})
	}
}

// TestPluginCasesCompiled runs the same cases through the compiled plugin,
// so a difference between the two points at the interpreter.
func TestPluginCasesCompiled(t *testing.T) {
	for _, c := range casetable.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			runCase(t, compiledFactory, c)
		})
	}
}
