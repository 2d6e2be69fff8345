package convo

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// position is a place in a list: the request token of a page and the id
// hashes of items already yielded that may be on that page (the yielded
// part of it, or the whole previous page when the position is at a page
// boundary). A v1 cursor carries a skip count and the last id instead.
type position struct {
	token  string
	seen   []uint64
	legacy *legacyPosition
}

// legacyPosition is the mid-page position of a v1 cursor.
type legacyPosition struct {
	skip int    // items of the page already yielded
	last string // id of the last one
}

// resumeAt reads a Pager.Cursor() value: it must have been made by this
// provider, resource, scope and filters, and a page size given beside it
// must be the one it was made with (the page boundaries depend on it).
func (p *Pager[T]) resumeAt(cursor string, pageSize int) (position, error) {
	pos, limit, err := resumePosition(p.c.provider.Name(), p.ep, p.fingerprint, cursor, pageSize)
	if err == nil && p.ep.limitParam != "" {
		p.limit = limit // the page boundaries of the original iteration
	}
	return pos, err
}

// resumePosition is resumeAt for the list ep of provider with the given
// fingerprint: the position a cursor resumes at and the page size it was
// made with, or why the list refuses it.
func resumePosition[T any](provider string, ep *listEndpoint[T], fingerprint, cursor string, pageSize int) (position, int, error) {
	name, res := provider, ep.resource
	tok, err := decodeCursor(cursor)
	switch {
	case err != nil:
		return position{}, 0, invalidField("Cursor", "%s %s: cursor is not a convo cursor: %v", name, res, err)
	case tok.P != name:
		return position{}, 0, invalidField("Cursor", "cursor was made by provider %q, not %q", tok.P, name)
	case tok.R != res:
		return position{}, 0, invalidField("Cursor", "%s: cursor was made for %s, not %s", name, tok.R, res)
	case tok.S != fingerprint:
		return position{}, 0, invalidField("Cursor", "%s %s: cursor was made for another conversation, query or filters", name, res)
	}
	if ep.limitParam != "" {
		if made := firstPositive(tok.L, ep.defaultLimit); pageSize != 0 && pageSize != made {
			return position{}, 0, invalidField("PageSize", "%s %s: the cursor resumes with page size %d, not PageSize %d (leave PageSize 0 when resuming)", name, res, made, pageSize)
		}
	}
	pos := position{token: tok.T, seen: tok.H}
	if tok.V == 1 && (tok.K > 0 || tok.I != "") {
		pos.legacy = &legacyPosition{skip: tok.K, last: tok.I}
	}
	return pos, tok.L, nil
}

// legacySkip returns how many items at the start of a page a v1 cursor had
// yielded: through its last id when the page still holds it, else its skip
// count.
func legacySkip[T any](l *legacyPosition, items []T, id func(*T) string) int {
	if l == nil {
		return 0
	}
	for i := range items {
		if id(&items[i]) == l.last {
			return i + 1
		}
	}
	return min(l.skip, len(items))
}

// cursorVersion is the version of the cursors Pager.Cursor makes. Version 1
// (a skip count and the last id instead of hashes) is still read.
const cursorVersion = 2

// cursorToken is the content of a resume token: JSON, base64url-encoded,
// then for a mid-page or page-boundary position "." and the packed
// big-endian id hashes, base64url-encoded.
type cursorToken struct {
	V int      `json:"v"`
	P string   `json:"p"`           // provider
	R string   `json:"r"`           // resource
	S string   `json:"s"`           // fingerprint of scope and filters
	T string   `json:"t,omitempty"` // request token of the page
	L int      `json:"l,omitempty"` // page size of the iteration
	K int      `json:"k,omitempty"` // v1: items of the page already yielded
	I string   `json:"i,omitempty"` // v1: id of the last item yielded
	H []uint64 `json:"-"`           // id hashes of items yielded that may be on page T
}

func encodeCursor(t cursorToken) string {
	b, _ := json.Marshal(t) // cannot fail: strings and ints only
	s := base64.RawURLEncoding.EncodeToString(b)
	if len(t.H) == 0 {
		return s
	}
	packed := make([]byte, 8*len(t.H))
	for i, h := range t.H {
		binary.BigEndian.PutUint64(packed[8*i:], h)
	}
	return s + "." + base64.RawURLEncoding.EncodeToString(packed)
}

func decodeCursor(s string) (cursorToken, error) {
	var t cursorToken
	head, hashes, _ := strings.Cut(s, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return t, errors.New("not base64url")
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, errors.New("malformed")
	}
	switch {
	case t.V != 1 && t.V != cursorVersion:
		return t, fmt.Errorf("unknown version %d", t.V)
	case t.P == "" || t.R == "" || t.S == "":
		return t, errors.New("incomplete")
	case t.K < 0 || t.L < 0:
		return t, errors.New("negative position")
	}
	if hashes != "" {
		packed, err := base64.RawURLEncoding.DecodeString(hashes)
		if err != nil || len(packed)%8 != 0 || t.V == 1 {
			return t, errors.New("malformed position")
		}
		t.H = make([]uint64, len(packed)/8)
		for i := range t.H {
			t.H[i] = binary.BigEndian.Uint64(packed[8*i:])
		}
	}
	return t, nil
}

func fingerprint(scope, query string) string {
	h := hashID(scope + "\x00" + query)
	return strconv.FormatUint(h, 36)
}

// hashID is the 64-bit FNV-1a hash of an id (or token). It is stable across
// processes, as a resume token needs.
func hashID(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s)) // does not allocate: the hash does not keep the bytes
	return h.Sum64()
}
