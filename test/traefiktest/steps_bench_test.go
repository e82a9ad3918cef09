package traefiktest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/dailytoken/dailytoken/internal/casetable"
	"github.com/dailytoken/dailytoken/test/yaegiharness"
)

// stepsProgram is evaluated in an interpreter that has imported tokencore.
// Each function runs one step of Validator.Authorize on its own, so the
// benchmark shows where the interpreted time of a validated request goes.
const stepsProgram = `
var (
	stepKeys         = [][]byte{[]byte(stepKey)}
	stepCodec, _     = tokencore.NewCodec(stepKeys, 0)
	stepExtractor, _ = tokencore.NewExtractor(nil, 0)
	stepHeaders, _   = tokencore.NewClaimHeaders("")
	stepVerifier     = tokencore.NewLocalVerifier(stepCodec)
	stepPolicy       = tokencore.Policy{Leeway: 30 * time.Second}
	stepValidator, _ = tokencore.NewValidator(tokencore.ValidatorConfig{Keys: stepKeys, Room: "{path.1}"})
)

func stepNothing(r *http.Request) {}

func stepRemoveClientHeaders(r *http.Request) { stepHeaders.RemoveClientHeaders(r.Header) }

func stepExtract(r *http.Request) { stepExtractor.Extract(r) }

func stepFingerprint(r *http.Request) { tokencore.Fingerprint(r.Header.Get("X-Token")) }

func stepVerifySignature(r *http.Request) { stepCodec.VerifySignature(r.Header.Get("X-Token")) }

func stepDecodeClaims(r *http.Request) {
	payload, _ := stepCodec.Verify(r.Header.Get("X-Token"))
	tokencore.DecodeClaims(payload)
}

func stepVerifyToken(r *http.Request) { stepVerifier.VerifyToken(r.Context(), r.Header.Get("X-Token")) }

func stepPolicyCheck(r *http.Request) {
	claims, _, _ := stepVerifier.VerifyToken(r.Context(), r.Header.Get("X-Token"))
	stepPolicy.Check(claims, time.Now(), "standup")
}

func stepSetClaimHeaders(r *http.Request) {
	claims, payload, _ := stepVerifier.VerifyToken(r.Context(), r.Header.Get("X-Token"))
	stepHeaders.Set(r.Header, claims, payload)
}

func stepAuthorize(r *http.Request) { stepValidator.Authorize(r, nil) }
`

// BenchmarkCoreStepsUnderYaegi times the steps of a validated request in
// the interpreter. Steps after the signature check include VerifyToken,
// whose decoded-payload cache is warm, so subtract "VerifyToken cached" to
// get the step alone. DAILYTOKEN_BENCH_ROOT points it at another copy of the
// module, to compare a change to the core.
func BenchmarkCoreStepsUnderYaegi(b *testing.B) {
	root := os.Getenv("DAILYTOKEN_BENCH_ROOT")
	if root == "" {
		root = moduleRoot
	}
	interpreter := yaegiharness.NewInterpreter(b, root)
	yaegiharness.Eval(b, interpreter, `import (
	"net/http"
	"time"

	"github.com/dailytoken/dailytoken/tokencore"
)`)
	yaegiharness.Eval(b, interpreter, `const stepKey = "`+casetable.Key+`"`)
	yaegiharness.Eval(b, interpreter, stepsProgram)

	token := casetable.ValidToken(time.Now())
	base := http.Header{"Authorization": {"Bearer " + token}, "X-Token": {token}}
	request := httptest.NewRequest(http.MethodGet, "/rooms/"+casetable.Room, nil)

	steps := []struct{ name, function string }{
		{"nothing", "stepNothing"},
		{"RemoveClientHeaders", "stepRemoveClientHeaders"},
		{"Extract", "stepExtract"},
		{"Fingerprint", "stepFingerprint"},
		{"VerifySignature", "stepVerifySignature"},
		{"Verify and DecodeClaims", "stepDecodeClaims"},
		{"VerifyToken cached", "stepVerifyToken"},
		{"VerifyToken cached and Policy.Check", "stepPolicyCheck"},
		{"VerifyToken cached and ClaimHeaders.Set", "stepSetClaimHeaders"},
		{"Authorize", "stepAuthorize"},
	}
	for _, step := range steps {
		run, ok := yaegiharness.Eval(b, interpreter, step.function).Interface().(func(*http.Request))
		if !ok {
			b.Fatalf("%s has an unexpected type", step.function)
		}
		b.Run(step.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				request.Header = base.Clone()
				run(request)
			}
		})
	}
}

// primitivesProgram contains small functions that each repeat one construct
// ten times, to price the constructs the core is made of under Yaegi, and a
// minimal stdlib-only HS256 verifier as a floor for a verifying request.
const primitivesProgram = `
type primitiveClaims struct {
	Room string ` + "`json:\"r\"`" + `
	Exp  int64  ` + "`json:\"exp\"`" + `
}

var (
	primitiveKey  = []byte(stepKey)
	primitiveTime = time.Now()
)

func add(a, b int) int { return a + b }

func tenCalls(token string) int {
	s := 0
	for i := 0; i < 10; i++ {
		s = add(s, i)
	}
	return s
}

func tenStdlibCalls(token string) int {
	s := 0
	for i := 0; i < 10; i++ {
		s += strings.IndexByte(token, '.')
	}
	return s
}

func tenClosureCalls(token string) int {
	s := 0
	add := func(i int) { s += i }
	for i := 0; i < 10; i++ {
		add(i)
	}
	return s
}

func tenTimeMethods(token string) int {
	s := 0
	for i := 0; i < 10; i++ {
		if primitiveTime.IsZero() {
			s++
		}
	}
	return s
}

func tenLoopIterations(token string) int {
	s := 0
	for i := 0; i < 10; i++ {
		s += i
	}
	return s
}

func minimalVerifier(token string) int {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return 1
	}
	signature, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return 2
	}
	mac := hmac.New(sha256.New, primitiveKey)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(signature, mac.Sum(nil)) {
		return 3
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return 4
	}
	var claims primitiveClaims
	if err := json.Unmarshal(payload, &claims); err != nil {
		return 5
	}
	if time.Now().Unix() >= claims.Exp {
		return 6
	}
	return 0
}
`

// BenchmarkYaegiPrimitives prices single constructs under Yaegi, ten at a
// time, and a minimal HS256 verifier that uses the standard library only.
func BenchmarkYaegiPrimitives(b *testing.B) {
	interpreter := yaegiharness.NewInterpreter(b, moduleRoot)
	yaegiharness.Eval(b, interpreter, `import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)`)
	yaegiharness.Eval(b, interpreter, `const stepKey = "`+casetable.Key+`"`)
	yaegiharness.Eval(b, interpreter, primitivesProgram)

	token := casetable.ValidToken(time.Now())
	for _, name := range []string{"tenLoopIterations", "tenCalls", "tenStdlibCalls", "tenClosureCalls", "tenTimeMethods", "minimalVerifier"} {
		run, ok := yaegiharness.Eval(b, interpreter, name).Interface().(func(string) int)
		if !ok {
			b.Fatalf("%s has an unexpected type", name)
		}
		if name == "minimalVerifier" && run(token) != 0 {
			b.Fatalf("minimalVerifier rejects the token: step %d", run(token))
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				run(token)
			}
		})
	}
}
