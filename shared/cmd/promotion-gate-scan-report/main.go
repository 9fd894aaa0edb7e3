// Command promotion-gate-scan-report is a promotion-gate plugin that fails an image whose
// vulnerability scan report has findings at or above a severity.
//
// The report is read from the registry: a Trivy JSON report or a SARIF log (Trivy,
// Grype, …) attached to the image as an OCI referrer, e.g. with
//
//	trivy image -f sarif IMAGE | trivy referrer put --subject IMAGE
//	oras attach --artifact-type application/sarif+json IMAGE report.sarif
//
// Registry credentials come from the default keychain (docker config, credential
// helpers). Parameters (policy plugins[].parameters):
//
//	severity       lowest severity that fails: critical, high (default), medium, low, none, unknown
//	artifactTypes  comma-separated artifact types to read (default application/sarif+json,
//	               application/vnd.aquasec.trivy.report+json)
//	ignore         comma-separated vulnerability IDs not counted
//	insecure       "true" to reach the registry over plain HTTP
//
// An image without a report fails. See docs/plugins.md.
package main

import "github.com/promotion-gate/promotion-gate/shared/plugin/sdk"

func main() {
	sdk.Serve(&checker{})
}
