//go:build !linux

package loadgen

import (
	"errors"
	"time"
)

func threadCPU() (time.Duration, error) {
	return 0, errors.New("loadgen: thread CPU time needs Linux")
}
