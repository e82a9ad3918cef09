package traefiktest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/internal/casetable"
)

// TestPluginCasesPrintNoSecrets runs every shared case through middlewares
// of one interpreted plugin whose standard output and error are recorded,
// and checks that nothing it printed contains a key, a token or a signature
// of any case, or mentions a panic. A panic while serving closes the
// connection, which fails the request and the test.
func TestPluginCasesPrintNoSecrets(t *testing.T) {
	recorder := newStdoutTB(t)
	plugin := loadPlugin(recorder)

	type caseSecrets struct {
		name    string
		secrets []string
	}
	var all []caseSecrets
	for _, c := range casetable.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			upstream := &recordingUpstream{}
			handler, err := plugin.NewMiddleware(context.Background(), traefikOptions(c.Config), upstream, "case@file")
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			request := c.Request(time.Now())
			response, body := send(t, serve(t, handler), request)
			minted, _ := c.Check(request, casetable.Observation{
				Status:   response.StatusCode,
				Header:   response.Header,
				Body:     body,
				Upstream: upstream.last(),
			})
			all = append(all, caseSecrets{name: c.Name, secrets: c.Secrets(request, minted)})
		})
	}

	output := recorder.output()
	for _, c := range all {
		for _, secret := range c.secrets {
			if i := strings.Index(output, secret); i >= 0 {
				t.Errorf("plugin output contains a key, token or signature of case %q: ...%s...", c.name, output[max(i-100, 0):min(i+8, len(output))])
			}
		}
	}
	if strings.Contains(strings.ToLower(output), "panic") {
		t.Errorf("plugin output mentions a panic: %.2000s", output)
	}

	// The recording works only if it saw what the plugin prints: the
	// notice of a relaxed setting, which some cases configure.
	mustContain(t, "plugin output", output, "allowMissingExp is on", "allowRoomless is on")
}
