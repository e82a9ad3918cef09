package tokencore

import (
	"time"
)

// DefaultMaxLifetime is the longest validity a Validator accepts unless
// configured. A token cannot be revoked before its exp, so a limit bounds
// the harm of a leaked token; Daily's own advice is a short exp.
const DefaultMaxLifetime = 24 * time.Hour

// DefaultLeeway is the clock skew allowed on exp, nbf and iat unless
// configured. It absorbs the skew between the minting server and this proxy
// without extending a short-lived token by much.
const DefaultLeeway = 30 * time.Second

// Policy is the set of checks a route applies to a token whose signature
// has been verified. Its zero value, with Leeway set, accepts any unexpired token that
// has an exp claim.
type Policy struct {
	// Leeway is the clock skew allowed on exp, nbf and iat.
	Leeway time.Duration

	// AllowMissingExp accepts tokens without exp. Daily treats such a token
	// as valid forever, so this is off by default.
	AllowMissingExp bool

	// MaxLifetime, if positive, rejects a token valid for longer than this:
	// from iat to exp, and from now to exp. A token without exp, accepted
	// only with AllowMissingExp, is not limited.
	MaxLifetime time.Duration

	// AllowRoomless accepts a token without a room name (r) on a route that
	// expects a room. Daily treats such a token as valid for every room of the
	// domain, so this is off by default.
	AllowRoomless bool

	// DomainID, if set, is the domain id (d) every token must carry.
	DomainID string

	// RequireOwner demands is_owner (o) true.
	RequireOwner bool

	// RequiredPermissions must all be granted by the token's permissions (p).
	RequiredPermissions []Permission
}

// Check applies the policy to verified claims at time now. expectedRoom is the
// room the request is for, or empty when the route does not restrict rooms.
// Validity errors (401) are reported before scope errors (403).
func (p *Policy) Check(c *Claims, now time.Time, expectedRoom string) error {
	if err := p.checkTimes(c, now); err != nil {
		return err
	}
	if err := p.checkDomain(c); err != nil {
		return err
	}
	if err := p.checkRoom(c, expectedRoom); err != nil {
		return err
	}
	return p.checkGrants(c)
}

// allows reports whether the policy certainly accepts verified at now (Unix
// nanoseconds) for expectedRoom. It makes the checks of Check that integer
// and string comparisons can make, without a call, because under Yaegi every
// call is costly. When it returns false, Check decides and gives the reason.
func (p *Policy) allows(verified *verifiedToken, now int64, expectedRoom string) bool {
	if len(p.RequiredPermissions) > 0 {
		return false
	}
	leeway := int64(p.Leeway)

	// lifetime
	if p.MaxLifetime > 0 && verified.hasExpires {
		if verified.expires == clampedFuture || (verified.hasIssuedAt && verified.issuedAt == clampedPast) {
			return false
		}
		limit := int64(p.MaxLifetime)
		if verified.hasIssuedAt && verified.expires-verified.issuedAt > limit {
			return false
		}
		if verified.expires-now > limit+leeway {
			return false
		}
	}

	// expiry, not-before and issued-at
	if !verified.hasExpires && !p.AllowMissingExp {
		return false
	}
	if verified.hasExpires && now >= verified.expires+leeway {
		return false
	}
	if verified.hasNotBefore && now+leeway < verified.notBefore {
		return false
	}
	if verified.hasIssuedAt && now+leeway < verified.issuedAt {
		return false
	}

	// domain, room and grants
	c := verified.claims
	if p.DomainID != "" && c.DomainID != p.DomainID {
		return false
	}
	if expectedRoom != "" && c.RoomName != expectedRoom && !(c.RoomName == "" && p.AllowRoomless) {
		return false
	}
	if p.RequireOwner && (c.IsOwner == nil || !*c.IsOwner) {
		return false
	}
	return true
}

func (p *Policy) checkTimes(c *Claims, now time.Time) error {
	if c.Exp.IsZero() {
		if !p.AllowMissingExp {
			return errorf(ErrMissingExpiry, "token has no exp claim, and this route requires one")
		}
	} else if !now.Before(c.Exp.Add(p.Leeway)) {
		return errorf(ErrExpired, "token expired at %s (leeway %s)", formatTime(c.Exp), p.Leeway)
	}

	if !c.Nbf.IsZero() && now.Add(p.Leeway).Before(c.Nbf) {
		return errorf(ErrNotYetValid, "token is not valid before %s (leeway %s)", formatTime(c.Nbf), p.Leeway)
	}
	if !c.Iat.IsZero() && now.Add(p.Leeway).Before(c.Iat) {
		return errorf(ErrIssuedInFuture, "token was issued at %s, in the future (leeway %s)", formatTime(c.Iat), p.Leeway)
	}

	if p.MaxLifetime > 0 && !c.Exp.IsZero() {
		if !c.Iat.IsZero() && c.Exp.Sub(c.Iat) > p.MaxLifetime {
			return errorf(ErrLifetimeTooLong, "token lifetime %s exceeds the maximum of %s", c.Exp.Sub(c.Iat), p.MaxLifetime)
		}
		if c.Exp.Sub(now) > p.MaxLifetime+p.Leeway {
			return errorf(ErrLifetimeTooLong, "token is valid for %s more, over the maximum lifetime of %s", c.Exp.Sub(now).Round(time.Second), p.MaxLifetime)
		}
	}
	return nil
}

func (p *Policy) checkDomain(c *Claims) error {
	if p.DomainID == "" || c.DomainID == p.DomainID {
		return nil
	}
	if c.DomainID == "" {
		return errorf(ErrDomainMismatch, "token has no domain id (d), and this route expects domain id %q", p.DomainID)
	}
	return errorf(ErrDomainMismatch, "token domain id %q does not match the configured domain id %q", truncate(c.DomainID, 64), p.DomainID)
}

func (p *Policy) checkRoom(c *Claims, expectedRoom string) error {
	if expectedRoom == "" {
		return nil
	}
	if c.RoomName == "" {
		if p.AllowRoomless {
			return nil
		}
		return errorf(ErrRoomNotScoped, "token has no room name (r) and is valid for every room, and this route expects room %q", truncate(expectedRoom, 64))
	}
	if c.RoomName != expectedRoom {
		return errorf(ErrRoomMismatch, "token room name %q does not match the route room %q", truncate(c.RoomName, 64), truncate(expectedRoom, 64))
	}
	return nil
}

func (p *Policy) checkGrants(c *Claims) error {
	if p.RequireOwner && (c.IsOwner == nil || !*c.IsOwner) {
		return errorf(ErrNotOwner, "token does not grant meeting owner privileges (is_owner), and this route requires them")
	}
	for _, perm := range p.RequiredPermissions {
		if !c.Permissions.Grants(perm) {
			return errorf(ErrPermissionMissing, "token does not grant permission %s, and this route requires it", perm.String())
		}
	}
	return nil
}

func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
