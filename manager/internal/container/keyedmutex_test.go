package container

import (
	"sync"
	"testing"
	"time"
)

func TestKeyedMutex(t *testing.T) {
	var k keyedMutex
	unlockA := k.lock("a")
	// Another key is free.
	unlockB := k.lock("b")
	unlockB()
	// The same key waits for its holder.
	got := make(chan struct{})
	go func() {
		defer close(got)
		k.lock("a")()
	}()
	select {
	case <-got:
		t.Fatal("a second lock of a held key did not wait")
	case <-time.After(50 * time.Millisecond):
	}
	unlockA()
	<-got
	// Many users of one key: each in turn, and nothing left after.
	var wg sync.WaitGroup
	inside := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer k.lock("c")()
			inside++
			if inside != 1 {
				t.Error("two holders at once")
			}
			inside--
		}()
	}
	wg.Wait()
	if len(k.m) != 0 {
		t.Errorf("keys left: %v", k.m)
	}
}
