package main

import (
	"fmt"
	"sort"
)

// goalRatio is issue 8's goal for the CPU and disk attacks: the victim's
// p99 at most this many times its baseline.
const goalRatio = 1.5

// printRounds prints each phase that ran (ratios holds its p99 ratio of
// every round) with its median ratio over the rounds and its range, and
// for the CPU and disk attacks whether the median is within goalRatio.
func printRounds(ratios map[string][]float64) {
	fmt.Printf("\n%-14s %-7s %8s %13s  goal (cpu, disk: median <= %.1f)\n", "phase", "kind", "median x", "range", goalRatio)
	for _, a := range attacks {
		r := ratios[a.name]
		if len(r) == 0 {
			continue
		}
		sort.Float64s(r)
		m, goal := median(r), ""
		if a.kind == "cpu" || a.kind == "disk" {
			goal = "met"
			if m > goalRatio {
				goal = "not met"
			}
		}
		fmt.Printf("%-14s %-7s %8.2f %6.2f-%-6.2f  %s\n", a.name, a.kind, m, r[0], r[len(r)-1], goal)
	}
}

// median is the median of sorted r (not empty).
func median(r []float64) float64 {
	if n := len(r); n%2 == 0 {
		return (r[n/2-1] + r[n/2]) / 2
	}
	return r[len(r)/2]
}
