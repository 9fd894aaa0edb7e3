//go:build !linux

package render

import (
	"os"
	"runtime/debug"
)

// limitMemory can only ask the garbage collector to stay within the budget where
// RLIMIT_DATA does not count the heap: the budget is a soft limit there.
func limitMemory(budget int64) error {
	debug.SetGCPercent(workerGCPercent)
	debug.SetMemoryLimit(budget)
	return nil
}

// peakRSS is not measured on this system.
func peakRSS(*os.ProcessState) int64 { return 0 }
