//go:build race

package tui

func init() { raceEnabled = true }
