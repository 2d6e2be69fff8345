package convo

// What the tests of package convo_test need from inside the package. Those
// tests run on convotest, which a test inside the package cannot import
// (convotest imports convo).

// CursorToken is the content of a resume token.
type CursorToken = cursorToken

// EncodeCursor and DecodeCursor are the resume token's codec, for tests
// that make a token by hand (a version 1 token, a malformed one).
var (
	EncodeCursor = encodeCursor
	DecodeCursor = decodeCursor
)

// Fingerprint returns the fingerprint of the pager's scope and filters,
// which a token made by hand must carry to be accepted.
func (p *Pager[T]) Fingerprint() string { return p.fingerprint }

// NewTestLogger returns a logger at debug level that writes JSON lines to
// a buffer safe for concurrent use.
var NewTestLogger = newTestLogger
