package tokencore

import (
	"math/rand"
	"testing"
	"time"
)

// TestPolicyAllowsAgreesWithCheck generates claims, policies and times
// around the boundaries and checks that the comparison-only fast path never
// accepts what Check rejects, and accepts most of what Check accepts.
func TestPolicyAllowsAgreesWithCheck(t *testing.T) {
	random := rand.New(rand.NewSource(1))
	base := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	offsets := []time.Duration{0, -time.Hour, time.Hour, -31 * time.Second, -30 * time.Second, -29 * time.Second,
		29 * time.Second, 30 * time.Second, 31 * time.Second, time.Nanosecond, -time.Nanosecond}
	timeAt := func() time.Time {
		if random.Intn(4) == 0 {
			return time.Time{}
		}
		return base.Add(offsets[random.Intn(len(offsets))])
	}
	pick := func(values ...string) string { return values[random.Intn(len(values))] }
	yes, no := true, false
	owners := []*bool{nil, &yes, &no}

	accepted, fast := 0, 0
	for i := 0; i < 20000; i++ {
		claims := &Claims{
			Exp:      timeAt(),
			Nbf:      timeAt(),
			Iat:      timeAt(),
			RoomName: pick("", "standup", "other"),
			DomainID: pick("", "d-1", "d-2"),
			IsOwner:  owners[random.Intn(len(owners))],
		}
		policy := &Policy{
			Leeway:          []time.Duration{0, 30 * time.Second}[random.Intn(2)],
			AllowMissingExp: random.Intn(2) == 0,
			AllowRoomless:   random.Intn(2) == 0,
			DomainID:        pick("", "d-1"),
			RequireOwner:    random.Intn(2) == 0,
		}
		if random.Intn(8) == 0 {
			policy.MaxLifetime = time.Hour
		}
		room := pick("", "standup")
		verified, err := newVerifiedToken("token", claims, []byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}

		checkErr := policy.Check(claims, base, room)
		allowed := policy.allows(verified, base.UnixNano(), room)
		if allowed && checkErr != nil {
			t.Fatalf("case %d: allows accepted what Check rejects (%v): claims %+v, policy %+v, room %q", i, checkErr, claims, policy, room)
		}
		if checkErr == nil {
			accepted++
			if allowed {
				fast++
			}
		}
	}
	if accepted == 0 || fast < accepted/2 {
		t.Errorf("allows took %d of %d accepted cases, expected at least half", fast, accepted)
	}
}
