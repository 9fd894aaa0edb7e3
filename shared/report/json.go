package report

import (
	"bytes"
	"encoding/json"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
)

// SchemaVersion identifies the JSON report schema. Within one version fields are only
// ever added, never renamed, removed or changed in meaning; anything else is a new
// version. The schema is documented in docs/policy.md ("JSON report schema").
const SchemaVersion = "promotion-gate.io/report/v1"

// The jsonXxx types are the v1 schema. They are separate from the evaluate types on
// purpose: the Go types may change, the schema may not. Every field is always present
// (lists are [] rather than null, unknown text is "", unknown numbers 0), so consumers
// need no existence checks.
type jsonReport struct {
	SchemaVersion string       `json:"schemaVersion"`
	Summary       jsonSummary  `json:"summary"`
	Results       []jsonResult `json:"results"`
}

type jsonSummary struct {
	// Verdict is the worst verdict of all results.
	Verdict string `json:"verdict"`
	Targets int    `json:"targets"`
	Denied  int    `json:"denied"`
	Warned  int    `json:"warned"`
	Allowed int    `json:"allowed"`
}

type jsonResult struct {
	Target         string        `json:"target"`
	Verdict        string        `json:"verdict"`
	Environment    string        `json:"environment"`
	Protected      bool          `json:"protected"`
	PolicyRevision string        `json:"policyRevision"`
	Findings       []jsonFinding `json:"findings"`
	Exempted       []jsonFinding `json:"exempted"`
	Notices        []string      `json:"notices"`
	Images         []jsonImage   `json:"images"`
	Error          string        `json:"error"`
}

type jsonFinding struct {
	Rule        string         `json:"rule"`
	Check       string         `json:"check"`
	Enforcement string         `json:"enforcement"`
	Image       string         `json:"image"`
	Message     string         `json:"message"`
	Fix         string         `json:"fix"`
	Source      jsonSource     `json:"source"`
	Exemption   *jsonExemption `json:"exemption"`
}

type jsonExemption struct {
	Reason  string `json:"reason"`
	Owner   string `json:"owner"`
	Expires string `json:"expires"`
	Images  string `json:"images"`
}

type jsonSource struct {
	File       string `json:"file"`
	Document   int    `json:"document"`
	Line       int    `json:"line"`
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
	Container  string `json:"container"`
	FieldPath  string `json:"fieldPath"`
}

type jsonImage struct {
	Image      string     `json:"image"`
	Reference  string     `json:"reference"`
	Pinned     bool       `json:"pinned"`
	ParseError string     `json:"parseError"`
	Source     jsonSource `json:"source"`
}

func writeJSON(b *bytes.Buffer, targets []Target) error {
	c := tally(targets)
	doc := jsonReport{
		SchemaVersion: SchemaVersion,
		Summary: jsonSummary{
			Verdict: string(Overall(targets)), Targets: len(targets),
			Denied: c.denied, Warned: c.warned, Allowed: c.allowed,
		},
		Results: []jsonResult{},
	}
	for _, t := range targets {
		r := t.Result
		notices := r.Notices
		if notices == nil {
			notices = []string{}
		}
		res := jsonResult{
			Target: t.Path, Verdict: string(r.Verdict), Environment: r.Environment, Protected: r.Protected,
			PolicyRevision: r.PolicyRevision, Findings: jsonFindings(r.Findings), Exempted: jsonFindings(r.Exempted),
			Notices: notices, Images: []jsonImage{}, Error: r.Error,
		}
		for _, img := range r.Images {
			ji := jsonImage{Image: img.Raw, ParseError: img.ParseError, Source: toJSONSource(img.Source)}
			if img.Ref != nil {
				ji.Reference = img.Ref.String()
				ji.Pinned = img.Ref.Pinned()
			}
			res.Images = append(res.Images, ji)
		}
		doc.Results = append(doc.Results, res)
	}
	enc := json.NewEncoder(b)
	enc.SetIndent("", "  ")
	// Fixes read "sha256:<digest>"; keep them readable for people who open the file.
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

func jsonFindings(fs []evaluate.Finding) []jsonFinding {
	out := make([]jsonFinding, 0, len(fs))
	for _, f := range fs {
		jf := jsonFinding{
			Rule: f.Rule, Check: f.Check, Enforcement: string(f.Enforcement), Image: f.Image,
			Message: f.Message, Fix: f.Fix, Source: toJSONSource(f.Source),
		}
		if u := f.Exemption; u != nil {
			jf.Exemption = &jsonExemption{Reason: u.Reason, Owner: u.Owner, Expires: u.Expires, Images: u.Images}
		}
		out = append(out, jf)
	}
	return out
}

func toJSONSource(s extract.Source) jsonSource {
	return jsonSource{
		File: s.File, Document: s.Document, Line: s.Line, APIVersion: s.APIVersion, Kind: s.Kind,
		Namespace: s.Namespace, Name: s.Name, Container: s.Container, FieldPath: s.FieldPath,
	}
}
