//go:build !linux

package main

import "time"

// setSlice sets nothing outside Linux.
func setSlice(time.Duration) (int, error) { return 0, errNoSlice }
