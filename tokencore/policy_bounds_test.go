package tokencore

import (
	"fmt"
	"testing"
	"time"
)

// TestPolicyEpochTimesAreClaims checks that a time claim equal to the Unix
// epoch, 0 seconds, counts as present: the policy's fast path, which keeps
// times in Unix nanoseconds, must not read it as an absent claim.
func TestPolicyEpochTimesAreClaims(t *testing.T) {
	exp := testNow.Add(time.Hour).Unix()
	tests := []policyCase{
		{"exp 0 with missing exp allowed", `{"r":"a","exp":0}`, Policy{AllowMissingExp: true}, ErrExpired},
		{"exp 0.0000000001 with missing exp allowed", `{"r":"a","exp":0.0000000001}`, Policy{AllowMissingExp: true}, ErrExpired},
		{"iat 0 under the default maximum lifetime", fmt.Sprintf(`{"r":"a","exp":%d,"iat":0}`, exp), Policy{}, ErrLifetimeTooLong},
		{"nbf 0 long past", fmt.Sprintf(`{"r":"a","exp":%d,"nbf":0}`, exp), Policy{}, nil},
	}
	runPolicyCases(t, tests)
}

// TestPolicyDistantTimesKeepLifetime checks the maximum lifetime of tokens
// whose exp or iat lies outside the range of int64 nanoseconds, 1678 to
// 2262, under a limit of centuries.
func TestPolicyDistantTimesKeepLifetime(t *testing.T) {
	centuries := Policy{MaxLifetime: 2500000 * time.Hour} // about 285 years
	now := testNow.Unix()
	tests := []policyCase{
		{"exp in the year 9999", fmt.Sprintf(`{"r":"a","exp":253402300799,"iat":%d}`, now), centuries, ErrLifetimeTooLong},
		{"iat in the year 1", fmt.Sprintf(`{"r":"a","exp":%d,"iat":-62135596799}`, now+3600), centuries, ErrLifetimeTooLong},
		{"exp in the year 2200", fmt.Sprintf(`{"r":"a","exp":7258118400,"iat":%d}`, now), centuries, nil},
	}
	runPolicyCases(t, tests)
}

// policyCase is a token payload, the policy of the route and the kind of
// error expected, nil for acceptance.
type policyCase struct {
	name    string
	payload string
	policy  Policy
	want    *Error
}

func runPolicyCases(t *testing.T, tests []policyCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustValidator(t, ValidatorConfig{Policy: tt.policy})
			token := signPayload(testKey, tt.payload)

			// The second request finds the token in the verifier's cache.
			// Both must be decided alike.
			for attempt := 1; attempt <= 2; attempt++ {
				_, err := v.Authorize(newRequest("/", "Authorization: Bearer "+token), nil)
				if tt.want == nil {
					if err != nil {
						t.Fatalf("request %d: unexpected error: %v", attempt, err)
					}
					continue
				}
				wantKind(t, err, tt.want)
			}
		})
	}
}
