package convotest

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"time"
)

// timestamp renders t as RFC 3339 in UTC; nil (JSON null) for the zero time.
func timestamp(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

// nullable renders a string that the provider sends as null when empty.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func firstTime(v ...time.Time) time.Time {
	for _, t := range v {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(h http.Header) (string, bool) {
	v := h.Get("Authorization")
	const prefix = "Bearer "
	if len(v) < len(prefix) || !strings.EqualFold(v[:len(prefix)], prefix) {
		return "", false
	}
	return strings.TrimSpace(v[len(prefix):]), true
}

// requestID returns the deterministic id of answer n, shaped like a ULID.
func requestID(n int) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var tail [10]byte
	for i := len(tail) - 1; i >= 0; i-- {
		tail[i] = alphabet[n%32]
		n /= 32
	}
	return "01JDEMQH2FZ8K1" + "RX" + string(tail[:])
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
