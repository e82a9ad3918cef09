package tokencore

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Permissions is the permissions claim (p) of a meeting token. A token
// carries the short form, Daily's REST API the long form; this type is
// neither and converts to both.
type Permissions struct {
	// HasPresence is hasPresence (hp): whether the participant is visible to others.
	HasPresence *bool

	// CanSend is canSend (cs): which media the participant may send.
	CanSend *PermissionSet

	// CanReceive is canReceive (cr) in its long form, with the required
	// "base" and any more specific overrides, kept as sent.
	CanReceive map[string]json.RawMessage

	// CanAdmin is canAdmin. Its short name ca is not in Daily's public
	// documentation, so it is decoded leniently.
	CanAdmin *PermissionSet

	// Extra contains every other key of the short form, as it was sent.
	Extra map[string]json.RawMessage
}

// PermissionSet is a permission that is either granted for everything,
// denied, or granted for the named media or admin areas, in the long names of
// Daily's REST API ("screenVideo", "participants").
type PermissionSet struct {
	All   bool
	Names []string
}

// Allows reports whether the set grants name.
func (s *PermissionSet) Allows(name string) bool {
	if s == nil {
		return false
	}
	if s.All {
		return true
	}
	for _, n := range s.Names {
		if n == name {
			return true
		}
	}
	return false
}

// longValue returns the set in the REST API's form: a boolean or a list.
func (s *PermissionSet) longValue() any {
	if s.All {
		return true
	}
	if len(s.Names) == 0 {
		return false
	}
	return s.Names
}

// Short names of canSend media in tokens, as Daily documents them.
var (
	mediaShortToLong = map[string]string{"v": "video", "a": "audio", "sv": "screenVideo", "sa": "screenAudio"}
	mediaLongToShort = map[string]string{"video": "v", "audio": "a", "screenVideo": "sv", "screenAudio": "sa"}
)

// Media that canSend may name in the long form. Daily's clients also know
// customVideo and customAudio, which have no documented short name.
var sendableMedia = map[string]bool{
	"video": true, "audio": true, "screenVideo": true, "screenAudio": true,
	"customVideo": true, "customAudio": true,
}

// Areas that canAdmin may name.
var adminAreas = map[string]bool{"participants": true, "streaming": true, "transcription": true}

// decodePermissions decodes the short form of the p claim.
func decodePermissions(raw json.RawMessage, label string) (*Permissions, error) {
	var fields map[string]json.RawMessage
	if !isObject(raw) || json.Unmarshal(raw, &fields) != nil {
		return nil, errorf(ErrInvalidClaim, "claim %s must be a JSON object", label)
	}

	p := &Permissions{}
	for name, value := range fields {
		switch name {
		case "hp":
			b, err := decodeBool(value, label+".hp")
			if err != nil {
				return nil, err
			}
			p.HasPresence = &b
		case "cs":
			set, err := decodeShortCanSend(value, label+".cs")
			if err != nil {
				return nil, err
			}
			p.CanSend = set
		case "cr":
			receive, err := decodeCanReceive(value, label+".cr", "b")
			if err != nil {
				return nil, err
			}
			p.CanReceive = receive
		case "ca":
			// Daily does not document ca, so a value this package cannot
			// read is kept in Extra instead of rejecting the token. CanAdmin
			// then stays nil, and a canAdmin requirement is not met.
			set, err := decodeNameSet(value, label+".ca", adminAreas)
			if err != nil {
				if p.Extra == nil {
					p.Extra = map[string]json.RawMessage{}
				}
				p.Extra[name] = value
				continue
			}
			p.CanAdmin = set
		default:
			if p.Extra == nil {
				p.Extra = map[string]json.RawMessage{}
			}
			p.Extra[name] = value
		}
	}
	return p, nil
}

// decodeLongPermissions decodes the long form of the permissions property.
func decodeLongPermissions(raw json.RawMessage, label string) (*Permissions, error) {
	var fields map[string]json.RawMessage
	if !isObject(raw) || json.Unmarshal(raw, &fields) != nil {
		return nil, errorf(ErrInvalidClaim, "property %s must be a JSON object", label)
	}

	p := &Permissions{}
	for name, value := range fields {
		switch name {
		case "hasPresence":
			b, err := decodeBool(value, label+".hasPresence")
			if err != nil {
				return nil, err
			}
			p.HasPresence = &b
		case "canSend":
			set, err := decodeNameSet(value, label+".canSend", sendableMedia)
			if err != nil {
				return nil, err
			}
			p.CanSend = set
		case "canReceive":
			receive, err := decodeCanReceive(value, label+".canReceive", "base")
			if err != nil {
				return nil, err
			}
			p.CanReceive = receive
		case "canAdmin":
			set, err := decodeNameSet(value, label+".canAdmin", adminAreas)
			if err != nil {
				return nil, err
			}
			p.CanAdmin = set
		default:
			if p.Extra == nil {
				p.Extra = map[string]json.RawMessage{}
			}
			p.Extra[name] = value
		}
	}
	return p, nil
}

// decodeShortCanSend decodes cs: a boolean, or a comma-separated string of
// v, a, sv and sa. Media without a documented short name (customVideo,
// customAudio) appear under their long name, as shortCanSend writes them.
func decodeShortCanSend(raw json.RawMessage, label string) (*PermissionSet, error) {
	if b, ok := jsonBool(raw); ok {
		return &PermissionSet{All: b}, nil
	}
	s, err := decodeString(raw, label)
	if err != nil {
		return nil, errorf(ErrInvalidClaim, "claim %s must be a boolean or a comma-separated string", label)
	}

	set := &PermissionSet{}
	if s == "" {
		return set, nil
	}
	for _, short := range strings.Split(s, ",") {
		short = strings.TrimSpace(short)
		long, ok := mediaShortToLong[short]
		if !ok && sendableMedia[short] && mediaLongToShort[short] == "" {
			long, ok = short, true
		}
		if !ok {
			return nil, errorf(ErrInvalidClaim, "claim %s names unknown media %q", label, truncate(short, 20))
		}
		set.Names = append(set.Names, long)
	}
	return set, nil
}

// decodeNameSet decodes a boolean, a list of names, or (leniently, for the
// undocumented short form) a comma-separated string of names.
func decodeNameSet(raw json.RawMessage, label string, known map[string]bool) (*PermissionSet, error) {
	if b, ok := jsonBool(raw); ok {
		return &PermissionSet{All: b}, nil
	}

	var names []string
	if len(raw) > 0 && raw[0] == '[' {
		if json.Unmarshal(raw, &names) != nil {
			return nil, errorf(ErrInvalidClaim, "claim %s must be a boolean or a list of names", label)
		}
	} else {
		s, err := decodeString(raw, label)
		if err != nil {
			return nil, errorf(ErrInvalidClaim, "claim %s must be a boolean or a list of names", label)
		}
		if s != "" {
			names = strings.Split(s, ",")
		}
	}

	set := &PermissionSet{}
	for _, name := range names {
		name = strings.TrimSpace(name)
		if !known[name] {
			return nil, errorf(ErrInvalidClaim, "claim %s names unknown value %q", label, truncate(name, 20))
		}
		set.Names = append(set.Names, name)
	}
	return set, nil
}

// decodeCanReceive decodes canReceive, whose base key is named baseKey in
// this form, into the long form keyed by "base".
func decodeCanReceive(raw json.RawMessage, label, baseKey string) (map[string]json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if !isObject(raw) || json.Unmarshal(raw, &fields) != nil {
		return nil, errorf(ErrInvalidClaim, "claim %s must be a JSON object", label)
	}
	base, ok := fields[baseKey]
	if !ok {
		return nil, errorf(ErrInvalidClaim, "claim %s has no %s", label, baseKey)
	}
	if _, ok := jsonBool(base); !ok && !isObject(base) {
		return nil, errorf(ErrInvalidClaim, "claim %s.%s must be a boolean or an object", label, baseKey)
	}
	delete(fields, baseKey)
	fields["base"] = base
	return fields, nil
}

// LongForm returns the permissions as Daily's REST API names them.
func (p *Permissions) LongForm() map[string]any {
	out := map[string]any{}
	for name, value := range p.Extra {
		out[name] = value
	}
	if p.HasPresence != nil {
		out["hasPresence"] = *p.HasPresence
	}
	if p.CanSend != nil {
		out["canSend"] = p.CanSend.longValue()
	}
	if p.CanReceive != nil {
		out["canReceive"] = p.CanReceive
	}
	if p.CanAdmin != nil {
		out["canAdmin"] = p.CanAdmin.longValue()
	}
	return out
}

// shortForm returns the permissions as a token carries them.
func (p *Permissions) shortForm() map[string]any {
	out := map[string]any{}
	for name, value := range p.Extra {
		out[name] = value
	}
	if p.HasPresence != nil {
		out["hp"] = *p.HasPresence
	}
	if p.CanSend != nil {
		out["cs"] = shortCanSend(p.CanSend)
	}
	if p.CanReceive != nil {
		receive := map[string]json.RawMessage{}
		for name, value := range p.CanReceive {
			receive[name] = value
		}
		receive["b"] = receive["base"]
		delete(receive, "base")
		out["cr"] = receive
	}
	if p.CanAdmin != nil {
		out["ca"] = p.CanAdmin.longValue()
	}
	return out
}

// shortCanSend encodes canSend for a token. Media without a documented short
// name keep their long name.
func shortCanSend(s *PermissionSet) any {
	if s.All {
		return true
	}
	if len(s.Names) == 0 {
		return false
	}
	shorts := make([]string, 0, len(s.Names))
	for _, name := range s.Names {
		if short, ok := mediaLongToShort[name]; ok {
			name = short
		}
		shorts = append(shorts, name)
	}
	return strings.Join(shorts, ",")
}

// Permission is one permission a route can require: hasPresence, canSend or
// canAdmin, optionally narrowed to one medium or admin area.
type Permission struct {
	Name string // "hasPresence", "canSend" or "canAdmin"
	Item string // "screenVideo", "participants", ...; empty for the whole permission
}

// String returns the permission in the syntax ParsePermission reads.
func (p Permission) String() string {
	if p.Item == "" {
		return p.Name
	}
	return p.Name + ":" + p.Item
}

// ParsePermission parses a requirement such as "hasPresence", "canSend",
// "canSend:screenVideo" or "canAdmin:participants".
func ParsePermission(s string) (Permission, error) {
	name, item, _ := strings.Cut(s, ":")
	switch name {
	case "hasPresence":
		if item != "" {
			return Permission{}, fmt.Errorf("permission %q: hasPresence takes no item", s)
		}
	case "canSend":
		if item != "" && !sendableMedia[item] {
			return Permission{}, fmt.Errorf("permission %q: unknown medium %q, expected one of %s", s, item, keyList(sendableMedia))
		}
	case "canAdmin":
		if item != "" && !adminAreas[item] {
			return Permission{}, fmt.Errorf("permission %q: unknown admin area %q, expected one of %s", s, item, keyList(adminAreas))
		}
	default:
		return Permission{}, fmt.Errorf("permission %q: unknown name %q, expected hasPresence, canSend or canAdmin", s, name)
	}
	return Permission{Name: name, Item: item}, nil
}

// Grants reports whether p grants the permission. Only what the token states
// counts: a token without the permission does not get it from the room's
// defaults, which this proxy cannot see. A whole permission ("canSend")
// requires it granted for everything.
func (p *Permissions) Grants(perm Permission) bool {
	if p == nil {
		return false
	}
	switch perm.Name {
	case "hasPresence":
		return p.HasPresence != nil && *p.HasPresence
	case "canSend":
		if perm.Item == "" {
			return p.CanSend != nil && p.CanSend.All
		}
		return p.CanSend.Allows(perm.Item)
	case "canAdmin":
		if perm.Item == "" {
			return p.CanAdmin != nil && p.CanAdmin.All
		}
		return p.CanAdmin.Allows(perm.Item)
	}
	return false
}

func keyList(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}
