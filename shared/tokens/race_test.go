//go:build race

package tokens

// raceEnabled: the race detector adds allocations, so budgets are not checked.
const raceEnabled = true
