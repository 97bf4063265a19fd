package parse

import (
	"bytes"
	"fmt"
	"strconv"
)

// This file holds what the stack readers share: the check that keeps every
// stack scorer away from function_graph traces, and small byte helpers.
// They read lines with the function_graph readers' lineReader, which
// allocates nothing per line and bounds a line at maxLine bytes, so an
// untrusted paste without newlines cannot grow memory without limit.
//
// The stack formats and their readers:
//   - bpftrace text output (bpftrace.go, with the map grammar in
//     bpftrace_grammar.go);
//   - bpftrace -f json (bpftrace_json.go);
//   - the bcc tools' stacks: stackcount, profile, offcputime, offwaketime,
//     trace -K/-U, tcpdrop (bcc.go);
//   - perf script callchains (perfscript.go);
//   - folded stacks (folded.go).
//
// Every stack becomes one [Builder.Sample]: frames root first, keeping their
// raw text ("inet_recvmsg+233"); the name table normalises the offset away
// for matching ([Normalize]).

// errorf returns a positioned parse error of b's input.
func stErrorf(b *Builder, line int, format string, args ...any) *Error {
	return &Error{File: b.t.Path, Line: line, Offset: -1, Msg: fmt.Sprintf(format, args...)}
}

// stQuote renders a piece of input for an error message: quoted, cut to
// 40 bytes.
func stQuote(s []byte) string {
	if len(s) > 40 {
		return strconv.Quote(string(s[:40])) + "..."
	}
	return strconv.Quote(string(s))
}

// stTrim trims spaces, tabs and carriage returns (not other bytes).
func stTrim(s []byte) []byte {
	i, j := 0, len(s)
	for i < j && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r') {
		i++
	}
	for j > i && (s[j-1] == ' ' || s[j-1] == '\t' || s[j-1] == '\r') {
		j--
	}
	return s[i:j]
}

// stIsDigits reports whether s is a non-empty run of decimal digits.
func stIsDigits(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// stIsHex reports whether s is a non-empty run of hexadecimal digits.
func stIsHex(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// stParseCount parses a non-negative decimal count; ok is false when s is not
// one or overflows int64.
func stParseCount(s []byte) (n int64, ok bool) {
	if !stIsDigits(s) || len(s) > 18 {
		return 0, false
	}
	for _, c := range s {
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// stReverse reverses frames in place (leaf first to root first).
func stReverse(f [][]byte) {
	for i, j := 0, len(f)-1; i < j; i, j = i+1, j-1 {
		f[i], f[j] = f[j], f[i]
	}
}

// stLooksFuncgraph reports whether head holds function_graph output (a
// trace-cmd report with funcgraph_entry events, or ftrace's
// " 0)   1.234 us    |  foo();" lines). No stack scorer claims such input,
// even when it also holds stacks (the irqsoff tracer's "<stack trace>").
func stLooksFuncgraph(head []byte) bool {
	if bytes.Contains(head, []byte("funcgraph_entry")) || bytes.Contains(head, []byte("funcgraph_exit")) ||
		bytes.Contains(head, []byte("# tracer: function_graph")) {
		return true
	}
	n := 0
	for len(head) > 0 {
		var line []byte
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			line, head = head, nil
		}
		bar := bytes.LastIndexByte(line, '|')
		if bar < 0 {
			continue
		}
		call := stTrim(line[bar+1:])
		if bytes.HasSuffix(call, []byte("();")) || bytes.HasSuffix(call, []byte(") {")) ||
			bytes.HasPrefix(call, []byte("} /*")) || (len(call) == 1 && call[0] == '}') {
			// Require a duration or CPU column before the bar, as
			// function_graph prints, so that a table drawn with bars
			// is not taken for one.
			if bytes.Contains(line[:bar], []byte(" us ")) || bytes.Contains(line[:bar], []byte(")")) {
				n++
				if n >= 3 {
					return true
				}
			}
		}
	}
	return false
}

// stEachLine calls fn for each line of head (the last one possibly cut).
func stEachLine(head []byte, fn func(line []byte)) {
	for len(head) > 0 {
		var line []byte
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			line, head = head, nil
		}
		fn(bytes.TrimSuffix(line, []byte("\r")))
	}
}
