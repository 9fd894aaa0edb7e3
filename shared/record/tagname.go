package record

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultTagTemplate names record tags in the style of a release engineer's
// `git tag -s prod-2026-06-01-001`: sortable by environment, then date, then number.
const DefaultTagTemplate = "{env}-{date}-{seq}"

// TagVars are the values a tag template's placeholders take.
type TagVars struct {
	// Env is the environment ({env}); Branch the target branch ({branch}); Gate the
	// PromotionGate's name ({gate}); Kind the record kind ({kind}).
	Env, Branch, Gate string
	Kind              Kind
	// Time gives {date} (YYYY-MM-DD, UTC).
	Time time.Time
}

var placeholder = regexp.MustCompile(`\{[a-z]+\}`)

// ValidateTagTemplate checks that a template has exactly one {seq} (which keeps
// names unique) and only known placeholders.
func ValidateTagTemplate(tmpl string) error {
	if strings.Count(tmpl, "{seq}") != 1 {
		return fmt.Errorf("tag template %q must hold {seq} exactly once: the number keeps record tags unique", tmpl)
	}
	for _, p := range placeholder.FindAllString(tmpl, -1) {
		switch p {
		case "{env}", "{date}", "{seq}", "{branch}", "{gate}", "{kind}":
		default:
			return fmt.Errorf("tag template %q: unknown placeholder %s (known: {env} {date} {seq} {branch} {gate} {kind})", tmpl, p)
		}
	}
	return nil
}

// NextTag names the next record tag: the template with vars filled in and {seq} one
// more than the highest number any existing tag of that name already has (3 digits,
// from 001). Two writers that pick the same name race at the server, which refuses
// the second tag; the loser asks again with the tag it lost to among existing.
func NextTag(tmpl string, vars TagVars, existing []string) (string, error) {
	if tmpl == "" {
		tmpl = DefaultTagTemplate
	}
	if err := ValidateTagTemplate(tmpl); err != nil {
		return "", err
	}
	env := vars.Env
	if env == "" {
		env = "unclassified"
	}
	r := strings.NewReplacer(
		"{env}", refSafe(env),
		"{date}", vars.Time.UTC().Format("2006-01-02"),
		"{branch}", refSafe(vars.Branch),
		"{gate}", refSafe(vars.Gate),
		"{kind}", string(vars.Kind),
	)
	filled := r.Replace(tmpl)
	prefix, suffix, _ := strings.Cut(filled, "{seq}")
	seq := 0
	for _, t := range existing {
		if !strings.HasPrefix(t, prefix) || !strings.HasSuffix(t, suffix) || len(t) < len(prefix)+len(suffix) {
			continue
		}
		n, err := strconv.Atoi(t[len(prefix) : len(t)-len(suffix)])
		if err == nil && n > seq {
			seq = n
		}
	}
	return fmt.Sprintf("%s%03d%s", prefix, seq+1, suffix), nil
}

// refSafe keeps a value usable inside a Git ref name.
func refSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '-'
	}, s)
}
