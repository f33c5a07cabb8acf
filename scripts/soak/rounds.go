package main

import (
	"fmt"
	"sort"
)

// printRounds prints each phase's median p99 ratio over the rounds and its
// range, and for the CPU and disk attacks whether the median is within
// issue 8's goal of 1.5.
func printRounds(ratios map[string][]float64, want map[string]bool) {
	fmt.Printf("\n%-14s %-7s %8s %13s  %s\n", "phase", "kind", "median x", "range", "goal (cpu, disk: median <= 1.5)")
	for _, a := range attacks {
		r := ratios[a.name]
		if len(r) == 0 || (len(want) > 0 && !want[a.name]) {
			continue
		}
		sort.Float64s(r)
		goal := ""
		if a.kind == "cpu" || a.kind == "disk" {
			goal = "met"
			if median(r) > 1.5 {
				goal = "not met"
			}
		}
		fmt.Printf("%-14s %-7s %8.2f %6.2f-%-6.2f  %s\n", a.name, a.kind, median(r), r[0], r[len(r)-1], goal)
	}
}

// median is the median of sorted r (not empty).
func median(r []float64) float64 {
	if n := len(r); n%2 == 0 {
		return (r[n/2-1] + r[n/2]) / 2
	}
	return r[len(r)/2]
}
