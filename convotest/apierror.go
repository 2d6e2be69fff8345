package convotest

import (
	"net/http"
	"strconv"
	"strings"
)

// errKind classifies an error; each dialect maps it to its own status and
// code.
type errKind int

const (
	errUnauthorized errKind = iota + 1
	errNotFound
	errMalformed // unknown parameter, value of the wrong type, bad page token
	errInvalid   // a well-formed value out of range, or a required one missing
	errRateLimited
	errServer
	errMethod
	errStatus // a scripted status (FaultStatus): any 4xx or 5xx, in status
)

// apiError is an error answer before a dialect renders it.
type apiError struct {
	kind    errKind
	status  int // errServer: the 5xx to send, 0 meaning 500; errStatus: the status
	message string
	details []fieldError
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *apiError) detailMap() map[string]string {
	m := make(map[string]string, len(e.details))
	for _, d := range e.details {
		m[d.Field] = d.Message
	}
	return m
}

func malformed(field, msg string) *apiError {
	return &apiError{kind: errMalformed, message: "invalid query parameter " + field + ": " + msg,
		details: []fieldError{{field, msg}}}
}

func invalid(field, msg string) *apiError {
	return &apiError{kind: errInvalid, message: "invalid query parameter " + field + ": " + msg,
		details: []fieldError{{field, msg}}}
}

func conversationNotFound(id string) *apiError {
	return &apiError{kind: errNotFound, message: "conversation " + strconv.Quote(id) + " not found"}
}

// statusCode returns a provider's error code for status: its documented
// one from codes, "internal_error" in the provider's case for a 5xx, else
// the status text in snake case ("Payment Required" -> payment_required).
func statusCode(status int, codes map[int]string, toCase func(string) string) string {
	if c, ok := codes[status]; ok {
		return c
	}
	if status >= 500 {
		return toCase("internal_error")
	}
	text := http.StatusText(status)
	if text == "" {
		text = "error " + strconv.Itoa(status)
	}
	return toCase(strings.NewReplacer(" ", "_", "-", "_", "'", "").Replace(text))
}
