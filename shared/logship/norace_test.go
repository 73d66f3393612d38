//go:build !race

package logship

const raceEnabled = false
