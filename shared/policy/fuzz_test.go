package policy

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// FuzzParse feeds arbitrary bytes to the policy parser, which reads ConfigMaps and files
// that anyone with write access to them controls. It must never panic, its errors must
// be one line, and a policy it accepts must survive being written out and read back with
// the same revision: normalisation is idempotent and loses nothing that matters.
func FuzzParse(f *testing.F) {
	f.Add([]byte(basePolicy))
	f.Add([]byte(classifyPolicy))
	f.Add([]byte(header + "spec:\n" + supplyChainRule))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(Source{Name: "fuzz.yaml", Data: data})
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		if !strings.HasPrefix(s.Revision, "sha256:") || len(s.Revision) != len("sha256:")+64 {
			t.Fatalf("bad revision %q", s.Revision)
		}
		out, err := yaml.Marshal(Document{APIVersion: APIVersion, Kind: Kind, Spec: Spec{
			Environments: s.Environments, Rules: s.Rules, ImageFields: s.ImageFields, Exemptions: s.Exemptions,
		}})
		if err != nil {
			t.Fatalf("marshal accepted policy: %v", err)
		}
		again, err := Parse(Source{Name: "again.yaml", Data: out})
		if err != nil {
			t.Fatalf("accepted policy does not parse again: %v\n%s", err, out)
		}
		if again.Revision != s.Revision {
			t.Fatalf("revision changed on round trip: %s != %s\n%s", again.Revision, s.Revision, out)
		}
		for _, q := range []Query{{Path: "apps/x/overlays/prod", Branch: "main", Application: "a-prod", Namespace: "n"}, {}} {
			if _, err := s.Classify(q); err != nil {
				t.Fatalf("classify without a requested environment failed: %v", err)
			}
		}
		for _, e := range s.Environments {
			if _, err := s.Classify(Query{Requested: e.Name}); err != nil {
				t.Fatalf("classify with a defined environment failed: %v", err)
			}
		}
		for _, r := range s.Rules {
			if r.Enforcement != Deny && r.Enforcement != Warn {
				t.Fatalf("rule %q has enforcement %q after Parse", r.Name, r.Enforcement)
			}
		}
	})
}

// TestFuzzSeedCorpus keeps the committed seeds honest: "valid-*" seeds parse and
// "invalid-*" seeds are rejected, so the fuzzer starts from both sides of the line.
func TestFuzzSeedCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/fuzz/FuzzParse/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed corpus: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			header, value, _ := strings.Cut(strings.TrimSpace(string(raw)), "\n")
			literal, ok := strings.CutPrefix(value, "[]byte(")
			if header != "go test fuzz v1" || !ok {
				t.Fatalf("not a go fuzz corpus file")
			}
			data, err := strconv.Unquote(strings.TrimSuffix(literal, ")"))
			if err != nil {
				t.Fatalf("corpus value: %v", err)
			}
			_, err = Parse(Source{Name: "seed", Data: []byte(data)})
			if strings.HasPrefix(filepath.Base(file), "valid-") && err != nil {
				t.Errorf("valid seed rejected: %v", err)
			}
			if strings.HasPrefix(filepath.Base(file), "invalid-") && err == nil {
				t.Errorf("invalid seed accepted")
			}
		})
	}
}
