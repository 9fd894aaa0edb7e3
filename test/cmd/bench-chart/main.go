// Command bench-chart writes the generated Helm chart of make bench-cmp: n Deployments
// from one template ranging over values-prod.yaml, every image pinned by digest. It is
// the chart the render benchmarks (rendertest.GenerateChart) use, so the whole-process
// numbers and the Go benchmarks measure the same input.
//
//	bench-chart DIR N
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/promotion-gate/promotion-gate/shared/render/rendertest"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: bench-chart DIR N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n < 0 {
		fmt.Fprintf(os.Stderr, "bench-chart: N must be a number of Deployments, not %q\n", os.Args[2])
		os.Exit(2)
	}
	if err := rendertest.GenerateChart(os.Args[1], n); err != nil {
		fmt.Fprintf(os.Stderr, "bench-chart: %v\n", err)
		os.Exit(1)
	}
}
