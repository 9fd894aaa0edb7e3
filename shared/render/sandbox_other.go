//go:build !linux

package render

import (
	"runtime/debug"
	"syscall"
)

// limitMemory can only ask the garbage collector to stay within the budget where
// the address space cannot be limited as on Linux: the budget is a soft limit there.
func limitMemory(budget int64) error {
	debug.SetGCPercent(workerGCPercent)
	debug.SetMemoryLimit(budget)
	return nil
}

// peakRSS is not measured on this system.
func peakRSS(int) int64 { return 0 }

// workerAttr has nothing to add here: the worker stops at its deadline on its own.
func workerAttr() *syscall.SysProcAttr { return nil }
