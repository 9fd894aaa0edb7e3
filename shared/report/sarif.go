package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// SARIF 2.1.0 identifiers.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json"
	toolName     = "promotion-gate"
	toolURI      = "https://github.com/promotion-gate/promotion-gate"
	// fingerprintKey versions the partial fingerprint, so that a change in what it
	// covers does not silently merge or split alerts.
	fingerprintKey = "promotionGateFinding/v1"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	ShortDescription sarifMessage `json:"shortDescription"`
	FullDescription  sarifMessage `json:"fullDescription"`
	Help             sarifMessage `json:"help"`
}

type sarifMessage struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool                `json:"executionSuccessful"`
	Notifications       []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level   string       `json:"level"`
	Message sarifMessage `json:"message"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifMessage       `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          sarifProperties    `json:"properties"`
}

type sarifProperties struct {
	Target      string `json:"target"`
	Environment string `json:"environment"`
	Image       string `json:"image"`
	Check       string `json:"check"`
	Fix         string `json:"fix"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification"`
}

// writeSARIF writes one run with every target's findings as results. Rule ids are the
// policy rule names; exempted findings are results with an external suppression, so that
// code scanning shows them as dismissed with the exemption's reason. Errors and notices
// become tool execution notifications.
func writeSARIF(b *bytes.Buffer, targets []Target) error {
	rules := sarifRules(targets)
	index := map[string]int{}
	for i, r := range rules {
		index[r.ID] = i
	}
	run := sarifRun{
		Tool:        sarifTool{Driver: sarifDriver{Name: toolName, InformationURI: toolURI, Rules: rules}},
		Invocations: []sarifInvocation{{ExecutionSuccessful: true}},
		Results:     []sarifResult{},
	}
	inv := &run.Invocations[0]
	for _, t := range targets {
		for _, f := range t.Result.Findings {
			run.Results = append(run.Results, sarifResultOf(t, f, index[f.Rule]))
		}
		for _, f := range t.Result.Exempted {
			res := sarifResultOf(t, f, index[f.Rule])
			res.Suppressions = []sarifSuppression{{
				Kind: "external", Status: "accepted", Justification: exemptionText(f.Exemption),
			}}
			run.Results = append(run.Results, res)
		}
		if t.Result.Error != "" {
			inv.ExecutionSuccessful = false
			inv.Notifications = append(inv.Notifications, sarifNotification{
				Level:   "error",
				Message: sarifMessage{Text: fmt.Sprintf("%s: %s: %s", t.Path, t.Result.Verdict, t.Result.Error)},
			})
		}
		for _, n := range t.Result.Notices {
			inv.Notifications = append(inv.Notifications, sarifNotification{
				Level: "note", Message: sarifMessage{Text: t.Path + ": " + n},
			})
		}
	}
	enc := json.NewEncoder(b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}})
}

// sarifRules describes every rule that has a finding, sorted by id. The report has no
// policy, so the help text is built from the clauses the findings broke.
func sarifRules(targets []Target) []sarifRule {
	checks := map[string][]string{}
	for _, t := range targets {
		for _, f := range slices.Concat(t.Result.Findings, t.Result.Exempted) {
			if !slices.Contains(checks[f.Rule], f.Check) {
				checks[f.Rule] = append(checks[f.Rule], f.Check)
			}
		}
	}
	order := evaluate.Checks()
	rules := []sarifRule{}
	for _, id := range sortedKeys(checks) {
		cs := checks[id]
		slices.SortFunc(cs, func(a, b string) int { return rank(order, a) - rank(order, b) })
		var text, md []string
		for _, c := range cs {
			d := evaluate.DescribeCheck(c)
			if d == "" {
				d = "See the rule in the promotion policy."
			}
			text = append(text, c+": "+d)
			md = append(md, "- **"+c+"**: "+mdEscaper.Replace(d))
		}
		short := fmt.Sprintf("promotion policy rule %s", id)
		intro := fmt.Sprintf("Images promoted to the environments of rule %s must pass its clauses. "+
			"Each result names the image, where it is, and a one-line fix.", id)
		if id == evaluate.RuleValidImageReference {
			short = "built-in check: valid image references"
			intro = "Built into promotion-gate for every environment."
		}
		rules = append(rules, sarifRule{
			ID:               id,
			ShortDescription: sarifMessage{Text: short},
			FullDescription:  sarifMessage{Text: strings.Join(text, " ")},
			Help: sarifMessage{
				Text:     intro + "\n" + strings.Join(text, "\n"),
				Markdown: intro + "\n\n" + strings.Join(md, "\n"),
			},
		})
	}
	return rules
}

func rank(order []string, c string) int {
	if i := slices.Index(order, c); i >= 0 {
		return i
	}
	return len(order)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sarifResultOf(t Target, f evaluate.Finding, ruleIndex int) sarifResult {
	level := "error"
	if f.Enforcement == policy.Warn {
		level = "warning"
	}
	src := f.Source
	loc := sarifLocation{}
	if src.File != "" {
		loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: sarifArtifact{URI: fileURI(src.File)}}
		if src.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: src.Line}
		}
	}
	objFQN := qualifiedName(src)
	loc.LogicalLocations = []sarifLogical{{Name: src.Name, FullyQualifiedName: objFQN, Kind: "resource"}}
	if inner := firstOf(src.FieldPath, src.Container); inner != "" {
		name := firstOf(src.Container, src.FieldPath)
		loc.LogicalLocations = append(loc.LogicalLocations,
			sarifLogical{Name: name, FullyQualifiedName: objFQN + "/" + inner, Kind: "member"})
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{
		f.Rule, f.Check, src.File, objFQN, src.FieldPath, f.Image}, "\x00")))
	return sarifResult{
		RuleID:              f.Rule,
		RuleIndex:           ruleIndex,
		Level:               level,
		Message:             sarifMessage{Text: fmt.Sprintf("%s: %s. Fix: %s%s", f.Image, f.Message, f.Fix, valuesKeyNote(src))},
		Locations:           []sarifLocation{loc},
		PartialFingerprints: map[string]string{fingerprintKey: hex.EncodeToString(sum[:16])},
		Properties: sarifProperties{
			Target: t.Path, Environment: t.Result.Environment, Image: f.Image, Check: f.Check, Fix: f.Fix,
		},
	}
}

// firstOf returns the first non-empty string.
func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// fileURI turns a repository-relative path into a relative URI reference, escaping what
// a URI cannot hold (spaces, '%', '#', '?').
func fileURI(file string) string {
	p := (&url.URL{Path: strings.TrimPrefix(file, "./")}).EscapedPath()
	if first, _, _ := strings.Cut(p, "/"); strings.Contains(first, ":") {
		p = "./" + p // "a:b/c" would read as a URI with scheme "a"
	}
	return p
}

// valuesKeyNote names the Helm values key of a location in a values file: the line
// alone does not say which key of a flow mapping to edit.
func valuesKeyNote(src extract.Source) string {
	if src.ValuesKey == "" {
		return ""
	}
	return " (values key " + src.ValuesKey + ")"
}
