package tokencore

import (
	"os/exec"
	"strings"
	"testing"
)

// goList runs the go command's list with a template for this package,
// excluding its tests, and returns the output lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goTool, append([]string{"list"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.Fields(string(out))
}

// Traefik interprets the core with Yaegi, which offers the standard library
// only, so the core must import nothing else.
func TestCoreImportsStandardLibraryOnly(t *testing.T) {
	packages := goList(t, "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".")
	if len(packages) != 1 || packages[0] != "github.com/dailytoken/dailytoken/tokencore" {
		t.Errorf("go list -deps: expected only the standard library and tokencore, got non-standard packages %q", packages)
	}
}

// Yaegi cannot run cgo, assembly, embedded files or unsafe code.
func TestCoreUsesNoCgoEmbedOrUnsafe(t *testing.T) {
	fields := goList(t, "-f", "cgo={{len .CgoFiles}} asm={{len .SFiles}} embed={{len .EmbedPatterns}}", ".")
	want := []string{"cgo=0", "asm=0", "embed=0"}
	if strings.Join(fields, " ") != strings.Join(want, " ") {
		t.Errorf("go list: expected %q, got %q", want, fields)
	}

	imports := goList(t, "-f", "{{join .Imports \" \"}}", ".")
	for _, path := range imports {
		if path == "unsafe" || path == "C" || path == "embed" {
			t.Errorf("imports: expected no %s, found it", path)
		}
	}
}
