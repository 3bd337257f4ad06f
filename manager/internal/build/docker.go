package build

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

// runTriggers runs the ONBUILD instructions of st's base image, as
// docker's classic builder does right after FROM, and drops them from the
// config: triggers fire once, in the first image built on top.
func (bd *build) runTriggers(ctx context.Context, st *stage) error {
	triggers := st.config.Config.OnBuild
	if len(triggers) == 0 {
		return nil
	}
	st.config.Config.OnBuild = nil
	noun := "trigger"
	if len(triggers) > 1 {
		noun = "triggers"
	}
	fmt.Fprintf(bd.out, "# Executing %d build %s\n", len(triggers), noun)
	for _, t := range triggers {
		c, err := parseTrigger(t)
		if err != nil {
			return err
		}
		if err := bd.dispatch(ctx, st, c); err != nil {
			return fmt.Errorf("ONBUILD %s: %w", t, err)
		}
	}
	return nil
}

// parseTrigger parses one stored ONBUILD expression as an instruction.
func parseTrigger(expr string) (instructions.Command, error) {
	res, err := parser.Parse(strings.NewReader(expr))
	if err != nil || len(res.AST.Children) != 1 {
		return nil, fmt.Errorf("parse ONBUILD trigger %q: %v: %w", expr, err, errdefs.ErrInvalidArgument)
	}
	switch strings.ToUpper(res.AST.Children[0].Value) {
	case "ONBUILD", "FROM", "MAINTAINER":
		return nil, fmt.Errorf("ONBUILD trigger %q: %s isn't allowed as an ONBUILD trigger: %w", expr, res.AST.Children[0].Value, errdefs.ErrInvalidArgument)
	}
	c, err := instructions.ParseCommand(res.AST.Children[0])
	if err != nil {
		return nil, fmt.Errorf("parse ONBUILD trigger %q: %w", expr, err)
	}
	return c, nil
}

// healthcheckText is HEALTHCHECK as it reads in a Dockerfile, for the
// step's history entry and cache key.
func healthcheckText(h *dockerspec.HealthcheckConfig) string {
	if h == nil || len(h.Test) == 0 {
		return "HEALTHCHECK"
	}
	if h.Test[0] == "NONE" {
		return "HEALTHCHECK NONE"
	}
	var b strings.Builder
	b.WriteString("HEALTHCHECK")
	for _, o := range []struct {
		name string
		d    time.Duration
	}{{"interval", h.Interval}, {"timeout", h.Timeout}, {"start-period", h.StartPeriod}, {"start-interval", h.StartInterval}} {
		if o.d != 0 {
			fmt.Fprintf(&b, " --%s=%s", o.name, o.d)
		}
	}
	if h.Retries != 0 {
		fmt.Fprintf(&b, " --retries=%d", h.Retries)
	}
	switch h.Test[0] {
	case "CMD-SHELL":
		b.WriteString(" CMD " + strings.Join(h.Test[1:], " "))
	default:
		b.WriteString(" CMD " + jsonArgs(h.Test[1:]))
	}
	return b.String()
}
