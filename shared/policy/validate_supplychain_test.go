package policy

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// supplyChainRule is a rule with every supply-chain clause, valid as written.
const supplyChainRule = `  rules:
    - name: prod-supply-chain
      signatures:
        count: all
        authorities:
          - name: release-key
            key: {file: keys/cosign.pub}
            trustedRoot: {configMapRef: {name: sigstore-root, key: trusted_root.json}}
          - name: ci
            keyless:
              issuer: https://token.actions.githubusercontent.com
              subjectRegExp: '^https://github\.com/example/.+@refs/tags/v.+$'
            trustedRoot: {configMapRef: {name: sigstore-root, key: trusted_root.json}}
      attestations:
        - name: provenance
          authorities: [ci]
          slsaProvenance: {builderID: "https://github.com/actions/runner/**", sourceRepository: https://github.com/example/payments-api, sourceRef: "refs/tags/v*"}
        - name: scan
          vulnerabilityScan:
            maxAge: 7d
            thresholds: {critical: 0, high: 2}
            ignore:
              - {id: CVE-2026-0001, reason: not reachable, expires: 2027-01-31}
      plugins:
        - name: scan-report
          path: /plugins/promotion-gate-scan-report
          sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
          timeout: 10s
          args: [--verbose]
          parameters: {severity: high}
      commitSignatures:
        allCommits: true
        keys:
          - {name: release-bot, openpgp: {secretRef: {name: git-signers, key: bot.asc}}}
          - {name: alice, ssh: {data: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB alice@example.com"}}
      changeScope: imagesOnly
`

func TestParseSupplyChainRule(t *testing.T) {
	g := NewWithT(t)
	set, err := Parse(src("p.yaml", header+"spec:\n"+supplyChainRule))
	g.Expect(err).NotTo(HaveOccurred())
	r := set.Rules[0]
	g.Expect(r.Signatures.Count).To(Equal("all"))
	g.Expect(r.Signatures.Authorities[1].TrustedRoot.ConfigMapRef.Key).To(Equal("trusted_root.json"))
	g.Expect(r.Attestations[1].VulnerabilityScan.Thresholds).To(Equal(map[string]int{"critical": 0, "high": 2}))
	g.Expect(r.Plugins[0].Parameters).To(HaveKeyWithValue("severity", "high"))
	g.Expect(r.CommitSignatures.Keys[1].SSH.Data).To(HavePrefix("ssh-ed25519 "))
	g.Expect(r.ChangeScope).To(Equal(ImagesOnly))

	// The revision covers the new clauses: changing one changes it.
	other, err := Parse(src("p.yaml", header+"spec:\n"+strings.Replace(supplyChainRule, "high: 2", "high: 3", 1)))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(other.Revision).NotTo(Equal(set.Revision))
}

func TestParseSupplyChainErrors(t *testing.T) {
	rule := func(body string) string { return "  rules:\n    - name: r\n" + body }
	key := "      signatures:\n        transparencyLog: ignore\n        authorities:\n          - {name: k, key: {data: x}}\n"
	tests := []struct{ name, spec, want string }{
		{"signatures without authorities", rule("      signatures: {count: \"1\"}\n"),
			`spec.rules[0].signatures.authorities: signatures need at least one authority`},
		{"authority with key and keyless", rule("      signatures:\n        authorities:\n          - {name: a, key: {data: x}, keyless: {issuer: i, subject: s}, trustedRoot: {data: r}}\n"),
			`spec.rules[0].signatures.authorities[0]: authority "a": set exactly one of key and keyless`},
		{"authority with neither", rule("      signatures:\n        authorities:\n          - {name: a}\n"),
			`set exactly one of key and keyless`},
		{"key material twice", rule("      signatures:\n        transparencyLog: ignore\n        authorities:\n          - {name: a, key: {data: x, file: y}}\n"),
			`spec.rules[0].signatures.authorities[0].key: set exactly one of data, file, secretRef and configMapRef`},
		{"reference without key", rule("      signatures:\n        transparencyLog: ignore\n        authorities:\n          - {name: a, key: {secretRef: {name: s}}}\n"),
			`key.secretRef: a reference needs the object's name and the key inside it`},
		{"reference leaving the trust dir", rule("      signatures:\n        transparencyLog: ignore\n        authorities:\n          - {name: a, key: {configMapRef: {name: \"..\", key: k}}}\n"),
			`is not an object name and key`},
		{"keyless without subject", rule("      signatures:\n        authorities:\n          - {name: a, keyless: {issuer: i}, trustedRoot: {data: r}}\n"),
			`set exactly one of subject and subjectRegExp`},
		{"keyless bad regexp", rule("      signatures:\n        authorities:\n          - {name: a, keyless: {issuer: i, subjectRegExp: \"(\"}, trustedRoot: {data: r}}\n"),
			`keyless.subjectRegExp: invalid regular expression "("`},
		{"keyless without trusted root", rule("      signatures:\n        authorities:\n          - {name: a, keyless: {issuer: i, subject: s}}\n"),
			`authority "a": keyless signatures need trustedRoot`},
		{"logged key without trusted root", rule("      signatures:\n        authorities:\n          - {name: a, key: {data: x}}\n"),
			`authority "a": its signatures must be in the transparency log, so give trustedRoot`},
		{"trusted root material twice", rule("      signatures:\n        authorities:\n          - {name: a, key: {data: x}, trustedRoot: {data: r, file: f}}\n"),
			`authorities[0].trustedRoot: set exactly one of data, file`},
		{"duplicate authority", rule("      signatures:\n        transparencyLog: ignore\n        authorities:\n          - {name: a, key: {data: x}}\n          - {name: a, key: {data: y}}\n"),
			`authority "a" is listed twice`},
		{"count too high", rule(key + "        count: \"2\"\n"), `count 2 is more than the 1 authorities listed`},
		{"count not a number", rule(key + "        count: most\n"), `"most" is not a count; write a number from 1 to 1, or all`},
		{"bad transparency log mode", rule("      signatures:\n        transparencyLog: off\n        authorities:\n          - {name: k, key: {data: x}, trustedRoot: {data: r}}\n"), `"off" is not a transparency-log mode; use required or ignore`},
		{"attestation without signatures", rule("      attestations:\n        - {name: p, slsaProvenance: {builderID: b}}\n"),
			`attestation "p" needs signers: list the authorities under the rule's signatures.authorities`},
		{"attestation unknown authority", rule(key + "      attestations:\n        - {name: p, authorities: [ci], slsaProvenance: {builderID: b}}\n"),
			`spec.rules[0].attestations[0].authorities[0]: "ci" is not an authority of this rule's signatures; known: k`},
		{"attestation checks nothing", rule(key + "      attestations:\n        - {name: p}\n"), `attestation "p" checks nothing`},
		{"attestation two profiles", rule(key + "      attestations:\n        - {name: p, slsaProvenance: {builderID: b}, vulnerabilityScan: {maxAge: 1h}}\n"),
			`set one profile`},
		{"bad maxAge", rule(key + "      attestations:\n        - {name: p, vulnerabilityScan: {maxAge: a week}}\n"),
			`vulnerabilityScan.maxAge: "a week" is not an age`},
		{"unknown severity", rule(key + "      attestations:\n        - {name: p, vulnerabilityScan: {thresholds: {severe: 1}}}\n"),
			`vulnerabilityScan.thresholds.severe: "severe" is not a severity`},
		{"threshold not a number", rule(key + "      attestations:\n        - {name: p, vulnerabilityScan: {thresholds: {high: many}}}\n"),
			`expected a whole number`},
		{"ignore without expiry", rule(key + "      attestations:\n        - {name: p, vulnerabilityScan: {ignore: [{id: CVE-1, reason: r}]}}\n"),
			`ignore[0].expires: "" is not a date; every ignore expires`},
		{"plugin bad sha256", rule("      plugins:\n        - {name: p, path: /p, sha256: abc}\n"),
			`spec.rules[0].plugins[0].sha256: plugin "p": sha256 must be the 64 lower-case hex digits`},
		{"plugin without path", rule("      plugins:\n        - {name: p, sha256: abc}\n"), `plugin "p" needs the path of its executable`},
		{"plugin bad timeout", rule("      plugins:\n        - {name: p, path: /p, sha256: " + strings.Repeat("a", 64) + ", timeout: soon}\n"),
			`plugins[0].timeout: "soon" is not a timeout`},
		{"commit key without kind", rule("      commitSignatures:\n        keys: [{name: k}]\n"),
			`spec.rules[0].commitSignatures.keys[0]: set exactly one of openpgp and ssh`},
		{"commitSignatures without keys", rule("      commitSignatures: {allCommits: true}\n"), `commitSignatures need at least one key`},
		{"bad change scope", rule("      changeScope: everything\n"), `"everything" is not a change scope; use imagesOnly`},
		{"unknown field in authority", rule("      signatures:\n        authorities:\n          - {name: a, pem: x}\n"),
			`unknown field "pem" in authority`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := Parse(src("p.yaml", header+"spec:\n"+tt.spec))
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(ContainSubstring(tt.want))
			g.Expect(err.Error()).To(HavePrefix("policy p.yaml: line "))
		})
	}
}

func TestParseMaxAge(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"", 0, false},
		{"7d", 7 * 24 * time.Hour, false},
		{"1d", 24 * time.Hour, false},
		{"168h", 168 * time.Hour, false},
		{"36h30m", 36*time.Hour + 30*time.Minute, false},
		{"0d", 0, true},
		{"0s", 0, true},
		{"-1h", 0, true},
		{"-2d", 0, true},
		{"1.5d", 0, true},
		{"d", 0, true},
		{"7 days", 0, true},
		{"1w", 0, true},
		{"106752d", 0, true}, // beyond time.Duration
		{"-9223372036854775807d", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			g := NewWithT(t)
			got, err := ParseMaxAge(tt.in)
			if tt.wantErr {
				g.Expect(err).To(MatchError(ContainSubstring(tt.in)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tt.want))
		})
	}
}
