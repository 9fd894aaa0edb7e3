package record_test

import (
	"testing"

	"github.com/promotion-gate/promotion-gate/shared/record"
)

// FuzzParse feeds untrusted tag messages (anyone who can push a tag writes one) to
// Parse: it returns a record or an error, never panics, and a record it accepts
// survives Marshal and Parse unchanged.
func FuzzParse(f *testing.F) {
	for _, r := range []record.Record{promotion(), rollback(), pullRequest(), mergeCommit(), proposed()} {
		msg, err := record.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(msg)
	}
	f.Add([]byte("x\n---\nformat: promotion-gate.io/record/v1\nkind: rollback\n...\n"))
	f.Add([]byte("---\n...\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		r, err := record.Parse(msg)
		if err != nil {
			return
		}
		again, err := record.Marshal(r)
		if err != nil {
			t.Fatalf("a parsed record does not marshal: %v", err)
		}
		r2, err := record.Parse(again)
		if err != nil {
			t.Fatalf("a marshalled record does not parse: %v\n%s", err, again)
		}
		b2, _ := record.Marshal(r2)
		if string(b2) != string(again) {
			t.Fatalf("round trip not stable:\n%s\n---\n%s", again, b2)
		}
	})
}
