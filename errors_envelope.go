package convo

import (
	"bytes"
	"cmp"
	"encoding/json"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// wireError is the union of every documented error envelope (the doc of
// each provider's variable names its own) and of RFC 9457's:
//
//	{"status":"error","error":{"code","message","details"},"requestId"}
//	{"success":false,"message":"…","errors":[…]}
//	{"error":{"code","message","details":[{"field","message"}]}}
//	{"success":false,"error":{"code","message","request_id","details":{…}}}
//	{"type","title","status","detail"}
type wireError struct {
	Error     json.RawMessage `json:"error"`
	Message   string          `json:"message"`
	Code      string          `json:"code"`
	Errors    json.RawMessage `json:"errors"`
	Details   json.RawMessage `json:"details"`
	RequestID string          `json:"requestId"`
	ReqID     string          `json:"request_id"`
	Type      string          `json:"type"`
	Title     string          `json:"title"`
	Detail    string          `json:"detail"`
}

type wireErrorBody struct {
	Code      string          `json:"code"`
	Message   string          `json:"message"`
	RequestID string          `json:"request_id"`
	ReqID     string          `json:"requestId"`
	Details   json.RawMessage `json:"details"`
}

// newAPIError builds the error of a non-2xx response from its status,
// headers and (bounded) body.
func newAPIError(provider string, method, path string, status int, h http.Header, body []byte) *APIError {
	e := &APIError{
		Provider:   provider,
		Method:     method,
		Path:       path,
		StatusCode: status,
		RequestID:  h.Get("X-Request-Id"),
		RateLimit:  parseRateLimit(h),
	}
	e.RetryAfter, _ = parseRetryAfter(h.Get("Retry-After"), time.Now())
	if len(body) > maxErrorBody {
		body = body[:maxErrorBody]
	}
	e.Body = bytes.Clone(body)
	if !decodeErrorBody(e, body) {
		e.Message = plainMessage(status, h.Get("Content-Type"), body)
	}
	if e.Message == "" {
		e.Message = cmp.Or(http.StatusText(status), "HTTP "+strconv.Itoa(status))
	}
	return e
}

// emptyResponseError is consulted when a 2xx body gave no content: its page
// decoded empty or its body did not decode (decodeErr). A body that is one
// of the documented error envelopes is then a *DecodeError with
// ErrErrorEnvelope and the envelope's content, whatever the status (an error
// envelope is never an empty, complete list); any other undecodable body is
// a *DecodeError with the decoder's reason; otherwise nil. Credentials the
// server echoed are scrubbed.
func emptyResponseError(provider, path string, resp *response, decodeErr error) error {
	body := resp.body()
	if isErrorEnvelope(resp.header.Get("Content-Type"), body) {
		var e APIError
		decodeErrorBody(&e, body)
		e.RequestID = cmp.Or(e.RequestID, resp.header.Get("X-Request-Id"))
		resp.secrets.redact(&e)
		de := newDecodeError(provider, path, resp.status, body, ErrErrorEnvelope)
		de.Code, de.Message, de.RequestID, de.Details = e.Code, e.Message, e.RequestID, e.Details
		de.Snippet = resp.secrets.scrub(de.Snippet)
		return de
	}
	if decodeErr == nil {
		return nil
	}
	de := newDecodeError(provider, path, resp.status, body, decodeErr)
	de.Snippet = resp.secrets.scrub(de.Snippet)
	return de
}

// isErrorEnvelope reports whether body is one of the documented error
// envelopes, recognised by its top-level members: "success": false,
// "status": "error", an "error" member that is not null, false or empty
// (alone, or the inner object of the others), or RFC 9457 problem details (an application/problem+json body,
// or a numeric "status" with a "title" or "detail").
func isErrorEnvelope(contentType string, body []byte) bool {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return false
	}
	var w envelopeMembers
	if decodeJSON(body, &w) != nil {
		return false
	}
	return w.failed() || w.hasError() || w.isProblem(contentType)
}

// envelopeMembers are the top-level members of a body that isErrorEnvelope
// looks at, undecoded.
type envelopeMembers struct {
	Success json.RawMessage `json:"success"`
	Status  json.RawMessage `json:"status"`
	Error   json.RawMessage `json:"error"`
	Title   json.RawMessage `json:"title"`
	Detail  json.RawMessage `json:"detail"`
	Type    json.RawMessage `json:"type"`
}

// failed reports "success": false or "status": "error" (in any case).
func (w *envelopeMembers) failed() bool {
	return string(w.Success) == "false" ||
		isJSONString(w.Status) && strings.EqualFold(rawText(w.Status), "error")
}

// hasError reports an "error" member that is not null, false or empty.
func (w *envelopeMembers) hasError() bool {
	return len(w.Error) > 0 && !slices.Contains([]string{"null", "false", `""`, "{}", "[]"}, string(compactRaw(w.Error)))
}

// isProblem reports RFC 9457 problem details: a numeric "status" with a
// string "title" or "detail", or any of the problem's members in a body
// whose media type is application/problem+json.
func (w *envelopeMembers) isProblem(contentType string) bool {
	if len(w.Status) > 0 && (w.Status[0] == '-' || w.Status[0] >= '0' && w.Status[0] <= '9') && (isJSONString(w.Title) || isJSONString(w.Detail)) {
		return true
	}
	if len(w.Title) == 0 && len(w.Detail) == 0 && len(w.Type) == 0 && len(w.Status) == 0 {
		return false
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/problem+json"
}

// isJSONString reports whether v is a JSON string.
func isJSONString(v json.RawMessage) bool { return len(v) > 0 && v[0] == '"' }

// compactRaw returns v without insignificant white space.
func compactRaw(v json.RawMessage) []byte {
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return v
	}
	return b.Bytes()
}

// decodeErrorBody fills e from a JSON error envelope and reports whether the
// body was one.
func decodeErrorBody(e *APIError, body []byte) bool {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return false
	}
	var w wireError
	if json.Unmarshal(body, &w) != nil {
		return false
	}
	e.Code, e.Message = w.Code, w.Message
	details := w.Details
	if len(w.Error) > 0 && w.Error[0] == '{' {
		var inner wireErrorBody
		if json.Unmarshal(w.Error, &inner) == nil {
			e.Code = cmp.Or(inner.Code, e.Code)
			e.Message = cmp.Or(inner.Message, e.Message)
			e.RequestID = cmp.Or(inner.RequestID, inner.ReqID, e.RequestID)
			if len(inner.Details) > 0 {
				details = inner.Details
			}
		}
	} else if len(w.Error) > 0 && w.Error[0] == '"' {
		var s string
		if json.Unmarshal(w.Error, &s) == nil {
			e.Message = cmp.Or(e.Message, s)
		}
	}
	if w.Type != "" || w.Title != "" || w.Detail != "" { // RFC 9457
		e.Type = w.Type
		e.Message = cmp.Or(w.Detail, w.Title, e.Message) // the problem's machine identifier is Type
	}
	e.RequestID = cmp.Or(w.RequestID, w.ReqID, e.RequestID)
	e.Details = decodeDetails(details)
	if e.Details == nil {
		e.Details = decodeDetails(w.Errors)
	}
	return true
}

// decodeDetails accepts the documented detail shapes: an object of
// field -> message, an array of {field, message} objects, or an array of
// strings (keyed by position).
func decodeDetails(raw json.RawMessage) map[string]string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	out := map[string]string{}
	switch raw[0] {
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return nil
		}
		for k, v := range m {
			out[k] = rawText(v)
		}
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
		for i, it := range items {
			var fm struct {
				Field   string `json:"field"`
				Path    string `json:"path"`
				Param   string `json:"param"`
				Message string `json:"message"`
			}
			if len(it) > 0 && it[0] == '{' && json.Unmarshal(it, &fm) == nil {
				key := cmp.Or(fm.Field, fm.Path, fm.Param, "["+strconv.Itoa(i)+"]")
				out[key] = cmp.Or(fm.Message, rawText(it))
				continue
			}
			out["["+strconv.Itoa(i)+"]"] = rawText(it)
		}
	default:
		return nil
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// rawText returns a JSON string's value, or the JSON text of anything else.
func rawText(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

// plainMessage makes a readable message of a body that is not JSON, such as
// an HTML page from a proxy.
func plainMessage(status int, contentType string, body []byte) string {
	text := http.StatusText(status)
	if text == "" {
		text = "HTTP " + strconv.Itoa(status)
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return text
	}
	if mt == "text/plain" && utf8.Valid(body) {
		return snippet(bytes.Join(bytes.Fields(body), []byte(" ")), 200)
	}
	if mt == "" {
		mt = "unknown"
	}
	return text + " (non-JSON " + mt + " body)"
}
