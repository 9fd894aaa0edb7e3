package cmp

import (
	"fmt"
	"github.com/promotion-gate/promotion-gate/shared/check"
)

// editAt names the file (and line, and Helm values key) where the image is set, the
// file to edit: the overlay's images: entry, the base or component resource, the values
// file; "" when only the application path is known.
func editAt(s check.Source) string {
	if s.File == "" || s.Line <= 0 {
		return ""
	}
	at := fmt.Sprintf("%s:%d", s.File, s.Line)
	if s.ValuesKey != "" {
		at += " (" + s.ValuesKey + ")"
	}
	return at
}
