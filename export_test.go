package convo

import (
	"net/http"
	"testing"
	"time"
)

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

// What retry_test.go borrows: the test kit of helpers_test.go and
// request_test.go, and the retry policy's pure functions. Each is the
// unexported name it lends, under a name that says it exists for tests.

// ScriptedServerForTest is scriptedServer: its server answers attempt n with a script.
var ScriptedServerForTest = scriptedServer

// FailFirstForTest is failFirst: a script that fails k attempts, then answers 200.
var FailFirstForTest = failFirst

// ErrorBodyForTest is errorBody: a VantaxAI error naming the attempt.
var ErrorBodyForTest = errorBody

// WriteJSONForTest is writeJSON: an answer as application/json.
var WriteJSONForTest = writeJSON

// VantaxConvBodyForTest is vantaxConvBody: a one-item, last-page VantaxAI conversation list.
const VantaxConvBodyForTest = vantaxConvBody

// ContextForTest is testContext: a context that ends with the test or after a bound.
var ContextForTest = testContext

// FirstPageForTest is firstPage: a pager's first page or its error.
func FirstPageForTest[T any](pg *Pager[T]) (*Page[T], error) { return firstPage(pg) }

// DrainForTest is drain: a pager's items to its end, at most max, or its first error.
func DrainForTest[T any](pg *Pager[T], max int) ([]T, error) { return drain(pg, max) }

// ParseLogForTest is parseLog: the records a NewTestLogger logger wrote.
var ParseLogForTest = parseLog

// FakeClientForTest is fakeClient, with its transport's count of attempts made so far.
func FakeClientForTest(t *testing.T, script func(n int, req *http.Request) (*http.Response, error), opts ...Option) (*Client, func() int) {
	t.Helper()
	c, ft := fakeClient(t, script, opts...)
	return c, ft.attempts
}

// FakeResponseForTest is fakeResponse: a response with a status, headers and a body.
var FakeResponseForTest = fakeResponse

// StartGockForTest is startGock, with its recorder's requests intercepted so far.
func StartGockForTest(t *testing.T) func() []*http.Request { return startGock(t).requests }

// ExpectGETForTest is expectGET: a one-time gock mock of a GET under a provider's base URL.
var ExpectGETForTest = expectGET

// CheckSentRequestForTest is testSentRequest: everything a request sent through gock carries.
var CheckSentRequestForTest = testSentRequest

// BearerTokenForTest and UserAgentSuffixForTest are the test clients' token and User-Agent suffix.
const (
	BearerTokenForTest     = testBearer
	UserAgentSuffixForTest = testUserAgentSuffix
)

// BackoffForTest is backoff: the jittered wait after attempt n.
var BackoffForTest = backoff

// ParseRetryAfterForTest is parseRetryAfter: a Retry-After in seconds or as a date.
var ParseRetryAfterForTest = parseRetryAfter

// RetryDecisionForTest returns the decide method of a retryPolicy with these bounds.
func RetryDecisionForTest(maxRetries int, waitMin, waitMax time.Duration) func(resp *http.Response, err error, n int, now time.Time) (retry bool, wait time.Duration) {
	return retryPolicy{maxRetries: maxRetries, waitMin: waitMin, waitMax: waitMax}.decide
}
