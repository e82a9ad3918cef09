package traefikplugin

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/dailytoken/dailytoken/tokencore"
)

// failureLogInterval is the shortest time between two printed lines about
// the same kind of server failure. Repeats in between are counted, and the
// next line reports the count, so an outage of Daily's REST API under load
// prints a few lines a minute instead of one per request.
const failureLogInterval = 10 * time.Second

// failureLog prints the server failures of one middleware: Daily's REST API
// unavailable, timed out, rate-limiting or rejecting the API key, and any
// error that is not a tokencore error. Client mistakes are not printed.
// It is safe for concurrent use and starts no goroutine.
type failureLog struct {
	name    string
	secrets []string // removed from every printed text: the keys
	now     func() time.Time

	mu    sync.Mutex
	kinds map[string]*failureKind
}

// failureKind is the state of one kind of failure: when it was last printed
// and how many times it happened since without being printed.
type failureKind struct {
	printed    time.Time
	suppressed int
}

func newFailureLog(name string, keys [][]byte) *failureLog {
	secrets := make([]string, len(keys))
	for i := 0; i < len(keys); i++ {
		secrets[i] = string(keys[i])
	}
	return &failureLog{name: name, secrets: secrets, now: time.Now, kinds: map[string]*failureKind{}}
}

// record prints err with the status the request got, unless the same kind of
// failure was printed less than failureLogInterval ago. token, if not empty,
// is the request's token: it is removed from the text, and only its
// fingerprint is printed. err must be the error as the core returned it,
// because under Yaegi a wrapper hides the *RESTError.
//
// It must be fmt.Printf: Yaegi sends fmt.Print* to Traefik's log, but a write
// to os.Stdout goes to the process's standard output and bypasses it.
func (l *failureLog) record(status int, err error, token string) {
	if line, ok := l.formatLine(status, err, token); ok {
		fmt.Printf("%s\n", line)
	}
}

// formatLine returns the line record prints, and false when the same kind of
// failure was printed less than failureLogInterval ago.
func (l *failureLog) formatLine(status int, err error, token string) (string, bool) {
	reason := "server_error"
	if e, ok := tokencore.AsError(err); ok {
		reason = e.Reason
	}
	kind := reason
	if restErr, ok := tokencore.AsRESTError(err); ok {
		kind += " " + restErr.Endpoint + " " + strconv.Itoa(restErr.StatusCode)
		if restErr.Timeout {
			kind += " timeout"
		}
	}

	// decide under the lock, format outside it
	now := l.now()
	l.mu.Lock()
	state := l.kinds[kind]
	if state == nil {
		state = &failureKind{}
		l.kinds[kind] = state
	}
	if !state.printed.IsZero() && now.Sub(state.printed) < failureLogInterval {
		state.suppressed++
		l.mu.Unlock()
		return "", false
	}
	suppressed := state.suppressed
	state.printed = now
	state.suppressed = 0
	l.mu.Unlock()

	// The core keeps tokens and keys out of its errors. Removing them here as
	// well keeps this output free of them even if a text from outside, such
	// as a transport error, quoted one.
	secrets := append([]string{token}, l.secrets...)
	description := tokencore.ScrubSecrets(err.Error(), secrets...)
	line := "dailytoken: middleware " + l.name + ": request rejected with " + strconv.Itoa(status) + " " + reason + ": " + description
	if token != "" {
		line += " (token " + tokencore.Fingerprint(token) + ")"
	}
	if suppressed > 0 {
		line += "; " + strconv.Itoa(suppressed) + " more since the previous line about this failure"
	}
	return line, true
}
