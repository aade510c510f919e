// Package kpi is the domain of kpibot: the records a seller's shops produce, the
// Japanese-calendar periods, the metric catalog and the engine that computes it.
//
// It imports only the standard library. Stores, connectors and chat adapters
// implement or use the small interfaces declared here.
package kpi

import (
	"errors"
	"fmt"
)

// Code classifies an Error so that callers can map it to a localized message.
type Code string

// The error codes. Each has a message in locales/.
const (
	Invalid      Code = "invalid"      // the input is malformed or out of range
	NotFound     Code = "not_found"    // the thing asked for does not exist
	Unauthorized Code = "unauthorized" // the caller may not see or do this
	Unavailable  Code = "unavailable"  // a store or an outside service failed
)

// Error is the one error type of the domain. Key names a locale message and
// Args fill it, so that a chat adapter can tell the user what went wrong in
// their language; Err keeps the cause for logs.
type Error struct {
	Code Code
	Key  string         // locale message id, e.g. "error.unknown_metric"
	Args map[string]any // template data for Key
	Err  error          // the underlying cause, if any
}

func (e *Error) Error() string {
	msg := string(e.Code) + ": " + e.Key
	if len(e.Args) > 0 {
		msg += fmt.Sprintf(" %v", e.Args)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and locale key.
func Errorf(code Code, key string, args map[string]any, cause error) *Error {
	return &Error{Code: code, Key: key, Args: args, Err: cause}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// Unavailable for any other non-nil error.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Unavailable
}
