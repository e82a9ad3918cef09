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
	tests := []struct {
		name    string
		payload string
		policy  Policy
		want    *Error
	}{
		{"exp 0 with missing exp allowed", `{"r":"a","exp":0}`, Policy{AllowMissingExp: true}, ErrExpired},
		{"exp 0.0000000001 with missing exp allowed", `{"r":"a","exp":0.0000000001}`, Policy{AllowMissingExp: true}, ErrExpired},
		{"iat 0 under the default maximum lifetime", fmt.Sprintf(`{"r":"a","exp":%d,"iat":0}`, exp), Policy{}, ErrLifetimeTooLong},
		{"nbf 0 long past", fmt.Sprintf(`{"r":"a","exp":%d,"nbf":0}`, exp), Policy{}, nil},
	}
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
