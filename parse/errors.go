package parse

import (
	"errors"
	"fmt"
)

// ErrUnknownFormat is wrapped by the error returned for input in which no
// supported format was recognised (empty, binary, another tool's output).
var ErrUnknownFormat = errors.New("no supported trace format recognised")

// ErrTruncated is wrapped by errors about input that ends before a structure
// it started is complete.
var ErrTruncated = errors.New("truncated input")

// Error is a problem at a position of an input: a line for text, a byte
// offset for binary input. It prints as "file:line: message" or
// "file: offset N: message".
type Error struct {
	File   string
	Line   int   // 1-based line, or 0
	Offset int64 // byte offset for binary input, or -1 when Line is used
	Msg    string
	Err    error // underlying cause, if any
}

// Error returns "file:line: message" (or "file: offset N: message"),
// followed by the cause when there is one.
func (e *Error) Error() string {
	pos := e.File
	if pos == "" {
		pos = "<input>"
	}
	switch {
	case e.Line > 0:
		pos = fmt.Sprintf("%s:%d", pos, e.Line)
	case e.Offset >= 0:
		pos = fmt.Sprintf("%s: offset %d", pos, e.Offset)
	}
	if e.Err != nil && e.Msg == "" {
		return pos + ": " + e.Err.Error()
	}
	if e.Err != nil {
		return pos + ": " + e.Msg + ": " + e.Err.Error()
	}
	return pos + ": " + e.Msg
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// MaxWarnings bounds the warnings kept for one capture; past it, one more
// warning says how many were dropped.
const MaxWarnings = 100
