package executor

import (
	"context"
	"errors"
	"fmt"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/action"
)

// errNoJS: this build has no JavaScript engine wired yet.
var errNoJS = errors.New("JavaScript actions cannot run on this node: no JavaScript engine")

func (e *Executor) loadJS(ctx context.Context, lk *link, v versionRec) error {
	return errNoJS
}

func (e *Executor) checkJS(ctx context.Context, c action.Code, triggers []abi.Trigger) error {
	return fmt.Errorf("%w: %w", action.ErrInvalidCode, errNoJS)
}
