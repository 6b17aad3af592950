//go:build !race

package nexmark

// raceEnabled is set when the tests run under the race detector.
const raceEnabled = false
