package convotest

import (
	"bufio"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// FaultKind is a kind of failure a [Server] can inject.
type FaultKind int

// The kinds of injected failure.
const (
	// FaultRateLimit answers 429 with a Retry-After header and the
	// provider's rate-limit error envelope.
	FaultRateLimit FaultKind = iota + 1
	// FaultServerError answers a 5xx (500 unless [Fault].Status says
	// otherwise) with the provider's error envelope.
	FaultServerError
	// FaultDrop closes the connection before any answer is written.
	FaultDrop
	// FaultTruncate sends the real answer's status and headers with its full
	// Content-Length, then only the first half of the body, and closes the
	// connection.
	FaultTruncate
	// FaultStatus answers [Fault].Status, any 4xx or 5xx (403, 404, 402,
	// 422 …), with the provider's documented error envelope and its code
	// for that status, e.g. VantaxAI's subscription_required for a 402 or
	// AgentMessage's FORBIDDEN for a 403. A RetryAfter is sent as
	// Retry-After.
	FaultStatus
)

// String returns the kind's name.
func (k FaultKind) String() string {
	switch k {
	case FaultRateLimit:
		return "rate-limit"
	case FaultServerError:
		return "server-error"
	case FaultDrop:
		return "drop"
	case FaultTruncate:
		return "truncate"
	case FaultStatus:
		return "status"
	case 0:
		return "none"
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Fault is a scripted failure, installed with [WithFaults].
//
// Each Fault counts the requests that match Path. It fires on the Nth of
// them and on the Times-1 matching requests that follow. When several
// faults would fire on the same request, the first in the list does; the
// others fire on the next matching requests instead.
type Fault struct {
	// Kind is the failure injected.
	Kind FaultKind
	// Path restricts the fault to requests whose path, relative to the base
	// path and unescaped, matches this [path.Match] pattern, e.g.
	// "/conversations" or "/conversations/*/messages". "" matches every
	// request.
	Path string
	// Nth is the 1-based number, among the matching requests, of the first
	// one that fails; 0 means 1.
	Nth int
	// Times is how many matching requests in a row fail, starting with the
	// Nth; 0 means 1, a negative value means every one from the Nth on.
	Times int
	// Status is the status of a FaultServerError (0 means 500) or of a
	// FaultStatus (required): any 4xx or 5xx, sent as given. A 4xx of a
	// FaultServerError is answered like a FaultStatus. [NewServer] panics
	// on a status outside 400–599 rather than sending another.
	Status int
	// RetryAfter is the wait a FaultRateLimit asks for, sent in Retry-After
	// as whole seconds (rounded up); 0 sends "Retry-After: 0".
	RetryAfter time.Duration
	// NoRetryAfter sends a FaultRateLimit without a Retry-After header.
	NoRetryAfter bool
}

type faultState struct {
	f     Fault
	seen  int // matching requests so far
	fired int
}

// check reports why f cannot be sent as scripted, or "".
func (f Fault) check() string {
	switch f.Kind {
	case FaultServerError:
		if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
			return fmt.Sprintf("a FaultServerError needs a 4xx or 5xx Status (or 0 for 500), not %d", f.Status)
		}
	case FaultStatus:
		if f.Status < 400 || f.Status > 599 {
			return fmt.Sprintf("a FaultStatus needs a Status from 400 to 599, not %d", f.Status)
		}
	case FaultRateLimit, FaultDrop, FaultTruncate:
	default:
		return fmt.Sprintf("unknown fault kind %v", f.Kind)
	}
	return ""
}

// WithFaults installs scripted faults; see [Fault].
func WithFaults(faults ...Fault) Option {
	return func(c *config) { c.faults = append(c.faults, faults...) }
}

// WithFaultRate makes each request that no scripted fault hits fail with
// probability rate (clamped to 0..1), with a kind drawn from kinds (all four
// when none is given). The sequence of decisions is drawn from seed in
// arrival order, so requests sent one after another meet the same faults on
// every run. Random 429s carry "Retry-After: 0"; random 5xx are 500, 502,
// 503 or 504.
func WithFaultRate(rate float64, seed int64, kinds ...FaultKind) Option {
	return func(c *config) {
		c.faultRate, c.faultSeed = max(rate, 0), seed
		c.kinds = append([]FaultKind(nil), kinds...)
	}
}

// pickFault decides the fault of request n with path rel. s.mu is held.
func (s *Server) pickFault(n int, rel string) (Fault, bool) {
	var picked *Fault
	for i := range s.faults {
		st := &s.faults[i]
		if st.f.Path != "" {
			if ok, _ := path.Match(st.f.Path, rel); !ok {
				continue
			}
		}
		st.seen++
		times := st.f.Times
		if times == 0 {
			times = 1
		}
		if picked == nil && st.seen >= max(st.f.Nth, 1) && (times < 0 || st.fired < times) {
			st.fired++
			picked = &st.f
		}
	}
	if s.rng != nil {
		// Draw for every request so that the sequence depends only on the
		// arrival number, not on which requests scripted faults took.
		hit := s.rng.Float64() < s.faultRate
		kind := s.kinds[s.rng.IntN(len(s.kinds))]
		status := []int{500, 502, 503, 504}[s.rng.IntN(4)]
		if picked == nil && hit {
			return Fault{Kind: kind, Status: status}, true
		}
	}
	if picked == nil {
		return Fault{}, false
	}
	return *picked, true
}

// faultReply renders a FaultRateLimit, FaultServerError or FaultStatus
// answer.
func (s *Server) faultReply(n int, f Fault) reply {
	if f.Kind == FaultStatus || (f.Kind == FaultServerError && f.Status >= 400 && f.Status < 500) {
		msg := strings.ToLower(http.StatusText(f.Status))
		if msg == "" {
			msg = "error"
		}
		rp := s.errorReply(n, &apiError{kind: errStatus, status: f.Status, message: msg + " (scripted)"})
		if f.RetryAfter > 0 {
			secs := (f.RetryAfter + time.Second - 1) / time.Second
			rp.header.Set("Retry-After", strconv.FormatInt(int64(secs), 10))
		}
		return rp
	}
	if f.Kind == FaultRateLimit {
		rp := s.errorReply(n, &apiError{kind: errRateLimited, message: "rate limit exceeded; retry later"})
		if !f.NoRetryAfter {
			secs := (f.RetryAfter + time.Second - 1) / time.Second
			rp.header.Set("Retry-After", strconv.FormatInt(int64(max(secs, 0)), 10))
		}
		if limit, _ := s.api.rateLimit(); limit > 0 {
			rp.header.Set("X-RateLimit-Remaining", "0")
		}
		return rp
	}
	status := f.Status
	if status < 500 || status > 599 {
		status = http.StatusInternalServerError
	}
	return s.errorReply(n, &apiError{kind: errServer, status: status, message: "internal error; please retry"})
}

// dropConnection closes the connection without answering.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // the server closes the connection
	}
	conn.Close()
}

// truncate writes rp's status line and headers with the full
// Content-Length, then half of its body, and closes the connection.
func truncate(w http.ResponseWriter, rp reply) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	writeTruncated(buf.Writer, rp)
	buf.Flush()
}

func writeTruncated(w *bufio.Writer, rp reply) {
	fmt.Fprintf(w, "HTTP/1.1 %d %s\r\n", rp.status, http.StatusText(rp.status))
	h := rp.header.Clone()
	h.Set("Content-Length", strconv.Itoa(len(rp.body)))
	h.Set("Connection", "close")
	h.Write(w)
	w.WriteString("\r\n")
	w.Write(rp.body[:len(rp.body)/2])
}
