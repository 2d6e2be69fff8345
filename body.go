package convo

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// response is a completed 2xx response with its body read.
type response struct {
	status    int
	header    http.Header
	rateLimit *RateLimit    // the X-RateLimit-* headers, read once; nil when not sent
	buf       *bytes.Buffer // pooled; release after decoding
	secrets   secretSet     // the credentials sent, to scrub from an error built from the body
}

func (r *response) body() []byte { return r.buf.Bytes() }

func (r *response) release() {
	if r.buf != nil {
		putBuffer(r.buf)
		r.buf = nil
	}
}

var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer { return bufferPool.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > 4<<20 { // let the GC have unusually large bodies
		return
	}
	b.Reset()
	bufferPool.Put(b)
}

// readBody is the one place a response body is read: all of it, up to
// limit bytes, then closed. A larger 2xx body is an ErrResponseTooLarge
// error; a larger error body keeps its first maxErrorBody bytes (an
// *APIError carries at most that much).
func readBody(resp *http.Response, limit int64) (*bytes.Buffer, error) {
	defer resp.Body.Close()
	isErr := resp.StatusCode < 200 || resp.StatusCode > 299
	if isErr {
		limit = min(limit, maxErrorBody)
	} else if resp.ContentLength > limit {
		return nil, &sizeError{fmt.Sprintf("Content-Length %d exceeds the limit of %d bytes", resp.ContentLength, limit)}
	}
	buf := getBuffer()
	if resp.ContentLength > 0 && resp.ContentLength <= limit {
		buf.Grow(int(resp.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1))
	if n > limit {
		if isErr { // keep the start of an oversized error body
			buf.Truncate(int(limit))
			return buf, nil
		}
		putBuffer(buf)
		return nil, &sizeError{fmt.Sprintf("body exceeds the limit of %d bytes", limit)}
	}
	if err != nil {
		putBuffer(buf)
		return nil, fmt.Errorf("read response body: %w", err)
	}
	return buf, nil
}
