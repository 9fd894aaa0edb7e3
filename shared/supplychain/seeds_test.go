package supplychain

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/promotion-gate/promotion-gate/shared/registry"
	"github.com/promotion-gate/promotion-gate/shared/registry/registrytest"
)

var update = flag.Bool("update", false, "rewrite the fuzz seed corpora under testdata/fuzz")

// TestWriteFuzzSeeds writes real legacy layers and bundles, signed keyed and keyless,
// as the seed corpora of the fuzz targets. It runs only with -update; it also checks
// that every seed decodes, so the seeds exercise the accepting paths.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite the fuzz seeds")
	}
	ss := registrytest.NewSigstore(t)
	key, keyless := ss.NewKey(t), ss.Keyless("release@example.com", "https://token.actions.example.com")
	img := registrytest.Image{
		Repository: "registry.example.com/payments-api", Digest: "sha256:" + strings.Repeat("ab", 32),
		Manifest: []byte(`{"schemaVersion":2}`),
	}
	st := fmt.Appendf(nil, `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha256":%q}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`,
		strings.Repeat("ab", 32))
	legacy := map[string]registrytest.LegacyLayer{
		"keyed-sig":       key.LegacySignature(t, img),
		"keyless-sig":     keyless.LegacySignature(t, img),
		"keyed-sig-nolog": key.WithoutLog().LegacySignature(t, img),
		"keyless-att":     keyless.LegacyAttestation(t, st),
	}
	for name, l := range legacy {
		if _, err := legacyCandidate(name, registryLayer(l)); err != nil {
			t.Fatalf("seed %s does not decode: %v", name, err)
		}
		writeSeed(t, "FuzzLegacyCandidate", name, fmt.Sprintf("string(%q)", l.MediaType), fmt.Sprintf("[]byte(%q)", l.Data),
			fmt.Sprintf("string(%q)", l.Annotations[annotationSignature]), fmt.Sprintf("string(%q)", l.Annotations[annotationCertificate]),
			fmt.Sprintf("string(%q)", l.Annotations[annotationRekorBundle]))
	}
	bundles := map[string][]byte{
		"keyed-message": key.SignImage(t, img),
		"keyless-dsse":  keyless.Attest(t, st),
		"keyless-nolog": keyless.WithoutLog().SignImage(t, img),
	}
	for name, b := range bundles {
		if _, err := fromBundle(name, b); err != nil {
			t.Fatalf("seed %s does not decode: %v", name, err)
		}
		writeSeed(t, "FuzzBundle", name, fmt.Sprintf("[]byte(%q)", b))
	}
}

func writeSeed(t *testing.T, target, name string, values ...string) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data := "go test fuzz v1\n" + strings.Join(values, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func registryLayer(l registrytest.LegacyLayer) registry.Layer {
	return registry.Layer{MediaType: l.MediaType, Data: l.Data, Annotations: l.Annotations}
}
