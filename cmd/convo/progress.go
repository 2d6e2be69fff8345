package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// redrawEvery calls draw five times a second until the returned function is
// called; that function draws a last time, ends the line on w and returns
// once the drawing goroutine has stopped.
func redrawEvery(w io.Writer, draw func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				draw()
			case <-done:
				draw()
				fmt.Fprintln(w)
				return
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}
