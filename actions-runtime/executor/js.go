package executor

import (
	"context"
	"errors"
	"fmt"

	"github.com/authok-edge/authok/actions-runtime/abi"
	"github.com/authok-edge/authok/actions-runtime/action"
)

// errNoJS: the node runs without a JavaScript engine (Config.JS nil).
var errNoJS = errors.New("JavaScript actions cannot run on this node: it has no JavaScript engine")

// holdJS compiles the JavaScript engine once (or finds it in the on-disk
// cache) and keeps it compiled while the executor lives, so no JS load,
// Check or request compiles it again.
func (e *Executor) holdJS(ctx context.Context) {
	if e.cfg.JS == nil {
		return
	}
	e.jsOnce.Do(func() {
		e.compiling.Store(true)
		defer e.compiling.Store(false)
		release, err := e.cfg.JS.Hold(ctx, e.rt)
		if err != nil {
			e.log.Error("actions: compiling the JavaScript engine", "err", err)
			return
		}
		e.jsRelease = release
	})
}

func (e *Executor) loadJS(ctx context.Context, lk *link, v versionRec) error {
	if e.cfg.JS == nil {
		return errNoJS
	}
	e.holdJS(ctx)
	triggers := v.Triggers
	ver, err := e.cfg.JS.Load(ctx, e.rt, lk.key, v.Source, triggers)
	if err != nil {
		return err
	}
	lk.ver = ver
	return nil
}

func (e *Executor) checkJS(ctx context.Context, c action.Code, triggers []abi.Trigger) error {
	if e.cfg.JS == nil {
		return fmt.Errorf("%w: %w", action.ErrInvalidCode, errNoJS)
	}
	e.holdJS(ctx)
	return e.cfg.JS.Check(ctx, e.rt, c.Source, triggers)
}
