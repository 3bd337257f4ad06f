package container

import (
	"errors"
	"testing"
	"time"

	"github.com/berthrun/berth/manager/internal/errdefs"
)

func TestShouldRestart(t *testing.T) {
	for _, tc := range []struct {
		policy   RestartPolicy
		code     int
		stopped  bool
		restarts int
		want     bool
	}{
		{RestartPolicy{Name: RestartNo}, 1, false, 0, false},
		{RestartPolicy{Name: RestartAlways}, 0, false, 50, true},
		{RestartPolicy{Name: RestartAlways}, 137, true, 0, false},
		{RestartPolicy{Name: RestartUnlessStopped}, 0, false, 0, true},
		{RestartPolicy{Name: RestartUnlessStopped}, 0, true, 0, false},
		{RestartPolicy{Name: RestartOnFailure}, 0, false, 0, false},
		{RestartPolicy{Name: RestartOnFailure}, 1, false, 100, true},
		{RestartPolicy{Name: RestartOnFailure, MaxRetry: 3}, 1, false, 2, true},
		{RestartPolicy{Name: RestartOnFailure, MaxRetry: 3}, 1, false, 3, false},
		{RestartPolicy{Name: RestartOnFailure, MaxRetry: 3}, 1, true, 0, false},
	} {
		if got := tc.policy.ShouldRestart(tc.code, tc.stopped, tc.restarts); got != tc.want {
			t.Errorf("%+v.ShouldRestart(%d, %v, %d) = %v, want %v", tc.policy, tc.code, tc.stopped, tc.restarts, got, tc.want)
		}
	}
}

func TestNextRestartDelay(t *testing.T) {
	d := time.Duration(0)
	for _, want := range []time.Duration{100, 200, 400, 800} {
		d = NextRestartDelay(d, time.Second)
		if d != want*time.Millisecond {
			t.Fatalf("delay %v, want %v", d, want*time.Millisecond)
		}
	}
	if d = NextRestartDelay(d, 10*time.Second); d != 100*time.Millisecond {
		t.Errorf("after a 10 s run: %v, want 100ms", d)
	}
	if d = NextRestartDelay(50*time.Second, 0); d != time.Minute {
		t.Errorf("cap: %v, want 1m", d)
	}
}

func TestRestartPolicyValidate(t *testing.T) {
	for _, p := range []RestartPolicy{{}, {Name: "no"}, {Name: "always"}, {Name: "unless-stopped"}, {Name: "on-failure", MaxRetry: 5}} {
		if err := p.validate(false); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
	for _, p := range []RestartPolicy{{Name: "sometimes"}, {Name: "always", MaxRetry: 2}, {Name: "on-failure", MaxRetry: -1}} {
		if err := p.validate(false); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%+v: %v, want invalid argument", p, err)
		}
	}
	if err := (RestartPolicy{Name: "always"}).validate(true); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("always with AutoRemove: %v, want invalid argument", err)
	}
}
