// Package listformat formats string lists for headerecho. It is a separate
// package so that loading headerecho needs an import from inside the module.
package listformat

import "strings"

// Join joins items with "|".
func Join(items []string) string {
	return strings.Join(items, "|")
}
