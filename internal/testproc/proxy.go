package testproc

import (
	"net"
	"sync"
	"testing"
)

// StallProxy forwards TCP connections on 127.0.0.1 to a server (a
// database) until Stall is called; from then on it holds whatever either
// side sends, like a network that stopped answering, until Resume. A
// connection whose client closes it while stalled is closed on both sides
// at Resume.
type StallProxy struct {
	// Addr is the proxy's host:port.
	Addr string

	mu      sync.Mutex
	stalled bool
	cond    *sync.Cond
}

// NewStallProxy starts a proxy to target (host:port), closed with the
// test.
func NewStallProxy(t testing.TB, target string) *StallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &StallProxy{Addr: ln.Addr().String()}
	p.cond = sync.NewCond(&p.mu)
	var conns sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	closed := false // set by the cleanup; no connection is added after
	t.Cleanup(func() {
		ln.Close()
		p.Resume()
		mu.Lock()
		closed = true
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		conns.Wait()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			if closed {
				// Accepted as the test ended: the cleanup may be waiting
				// already, so this one is not added to what it waits for.
				mu.Unlock()
				c.Close()
				s.Close()
				return
			}
			open = append(open, c, s)
			conns.Add(2)
			mu.Unlock()
			go func() { defer conns.Done(); p.pipe(s, c) }()
			go func() { defer conns.Done(); p.pipe(c, s) }()
		}
	}()
	return p
}

// pipe copies from src to dst, holding what it reads while the proxy is
// stalled, and closes both when either side ends.
func (p *StallProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		for p.stalled {
			p.cond.Wait()
		}
		p.mu.Unlock()
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Stall stops forwarding.
func (p *StallProxy) Stall() {
	p.mu.Lock()
	p.stalled = true
	p.mu.Unlock()
}

// Resume forwards again, what was held first.
func (p *StallProxy) Resume() {
	p.mu.Lock()
	p.stalled = false
	p.cond.Broadcast()
	p.mu.Unlock()
}
