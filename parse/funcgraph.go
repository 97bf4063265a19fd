package parse

// This file holds what the two function_graph text readers share: the line
// reader, the parser of the function column ("func() {", "func();", "}",
// "/* comment */" and their trailers), durations and timestamps.
//
// Both readers are hand-written scanners over the []byte lines of one
// bufio.Reader buffer: a line is classified and cut into fields by index
// arithmetic, names are interned by the Builder without copying, and nothing
// is allocated per line except for the text of non-call events. The common
// trace-cmd line ("comm-pid [cpu] ts: funcgraph_entry: ... |  func() {")
// is read in one pass by fastGraph; runs of spaces are skipped eight bytes
// at a time.
//
// participle/v2 was not used for this loop: its measured cost of about
// 20 us per line would make a 3-million-line capture take a minute, where
// BenchmarkParseLarge (funcgraph_bench_test.go) reads the corpus's 374 MB
// report at 0.7 to 1 GB/s (125 to 175 ns a line) on one core of the
// development machines, with no allocation per line, where
// awk -F'|' '{print $NF}' (mawk) reads the same file at 0.55 to 0.9 GB/s
// in the same runs.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
)

// maxLine bounds the length of one line; longer lines are cut there and
// warned about, so that a hostile input cannot grow a buffer without end.
const maxLine = 1 << 20

// lineReader yields the lines of r without their end-of-line bytes, as
// slices of r's buffer (valid until the next call), counting them.
type lineReader struct {
	r    *bufio.Reader
	long []byte // a line longer than r's buffer, assembled
	n    int    // number of the line last returned, 1-based
	cut  bool   // the line last returned was cut at maxLine
	err  error  // a read error other than io.EOF
}

// next returns the next line, or false at the end of input or on error.
func (lr *lineReader) next() ([]byte, bool) {
	line, err := lr.r.ReadSlice('\n')
	lr.cut = false
	if err == bufio.ErrBufferFull {
		lr.long = append(lr.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = lr.r.ReadSlice('\n')
			if len(lr.long) < maxLine {
				lr.long = append(lr.long, line...)
			} else {
				lr.cut = true
			}
		}
		if len(lr.long) > maxLine {
			lr.long = lr.long[:maxLine]
			lr.cut = true
		}
		line = lr.long
	}
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		lr.err = err
		return nil, false
	}
	if len(line) == 0 && err == io.EOF {
		return nil, false
	}
	lr.n++
	n := len(line)
	for n > 0 && (line[n-1] == '\n' || line[n-1] == '\r') {
		n--
	}
	return line[:n], true
}

// readError converts a read error into a positioned error.
func (lr *lineReader) readError(b *Builder) error {
	if lr.err == nil {
		return nil
	}
	e := &Error{File: b.t.Path, Line: lr.n + 1, Offset: -1, Msg: "reading input", Err: lr.err}
	if errors.Is(lr.err, io.ErrUnexpectedEOF) {
		e.Err = errors.Join(ErrTruncated, lr.err)
	}
	return e
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// spaces8 is eight spaces read as one little-endian word.
const spaces8 = 0x2020202020202020

// trimLeft drops leading spaces and tabs.
func trimLeft(s []byte) []byte { return s[skipRun(s, 0):] }

// skipRun returns the index of the first byte of s from i on that is not
// a space or a tab. Runs of spaces (the padding of columns, the
// indentation of calls) are skipped eight bytes at a time.
func skipRun(s []byte, i int) int {
	for len(s)-i >= 8 {
		if x := binary.LittleEndian.Uint64(s[i:]) ^ spaces8; x != 0 {
			i += bits.TrailingZeros64(x) >> 3
			if s[i] != '\t' {
				return i
			}
			break
		}
		i += 8
	}
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// skipBlank is skipRun for runs of a byte or two.
func skipBlank(s []byte, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// trimRight drops trailing spaces and tabs, eight bytes at a time.
func trimRight(s []byte) []byte {
	n := len(s)
	for n >= 8 {
		if x := binary.LittleEndian.Uint64(s[n-8:]) ^ spaces8; x != 0 {
			n -= bits.LeadingZeros64(x) >> 3
			break
		}
		n -= 8
	}
	for n > 0 && isSpace(s[n-1]) {
		n--
	}
	return s[:n]
}

func trim(s []byte) []byte { return trimRight(trimLeft(s)) }

// atoi parses a non-empty run of at most 9 decimal digits.
func atoi(s []byte) (int32, bool) {
	if len(s) == 0 || len(s) > 9 {
		return 0, false
	}
	var v int32
	for _, c := range s {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int32(c-'0')
	}
	return v, true
}

// parseFixed parses "123", "123.4" or "123.456789" as an integer count of
// 10^-scale units: parseFixed("2.441", 3) is 2441. It reports false on
// anything else, or when the value would not fit comfortably in an int64.
func parseFixed(s []byte, scale int) (int64, bool) {
	var v int64
	i, digits := 0, 0
	for i < len(s) && isDigit(s[i]) {
		v = v*10 + int64(s[i]-'0')
		i++
		digits++
	}
	if digits == 0 || digits > 10 {
		return 0, false
	}
	frac := 0
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			if frac < scale {
				v = v*10 + int64(s[i]-'0')
				frac++
			}
			i++
		}
	}
	if i != len(s) {
		return 0, false
	}
	for ; frac < scale; frac++ {
		v *= 10
	}
	return v, true
}

// isOverheadMark reports whether c is one of the marks the function_graph
// tracer puts before long durations: + (>10us) ! (>100us) # (>1ms)
// * (>10ms) @ (>100ms) $ (>1s).
func isOverheadMark(c byte) bool {
	switch c {
	case '+', '!', '#', '*', '@', '$':
		return true
	}
	return false
}

// parseDuration parses a duration cell, "2.441 us", "+ 20.379 us",
// "$ 3594274 us" or "* 33998.59 us", into nanoseconds.
func parseDuration(cell []byte) (int64, bool) {
	if len(cell) >= 2 && isOverheadMark(cell[0]) && isSpace(cell[1]) {
		cell = trimLeft(cell[1:])
	}
	if len(cell) < 4 || cell[len(cell)-2] != 'u' || cell[len(cell)-1] != 's' {
		return 0, false
	}
	return parseFixed(trimRight(cell[:len(cell)-2]), 3)
}

// fnKind says what the function column of a line holds.
type fnKind uint8

const (
	fnNone    fnKind = iota
	fnEnter          // "func() {"
	fnLeaf           // "func();"
	fnExit           // "}"
	fnComment        // "/* text */": an event or trace_printk
)

// fnPart is the function column of a line, as slices of the line.
type fnPart struct {
	kind   fnKind
	name   []byte // function (enter, leaf), tail name (exit), event name (comment)
	args   []byte // printed arguments (enter, leaf), without the parentheses
	ret    []byte // printed return value
	caller []byte // printed return address ("<-caller+0x12/0x40" without "<-")
	text   []byte // comment text
	depth  int32  // printed depth (trace-cmd -O fgraph:depth), or -1
	junk   bool   // unknown text followed the call
}

// commentName is the event name of a comment whose text does not start
// with one.
var commentName = []byte("comment")

// parseFn parses the function column s (its indentation already trimmed).
// On failure it returns what was expected.
func parseFn(s []byte) (fnPart, string) {
	fp := fnPart{depth: -1}
	if len(s) == 0 {
		return fp, "a function call, \"}\" or a comment"
	}
	switch {
	case s[0] == '}':
		fp.kind = fnExit
		return fp, fp.trailer(s[1:])
	case len(s) >= 2 && s[0] == '/' && s[1] == '*':
		fp.kind = fnComment
		body := s[2:]
		if e := bytes.Index(body, []byte("*/")); e >= 0 {
			body = body[:e]
		}
		fp.text = trim(body)
		fp.name = eventName(fp.text)
		return fp, ""
	}
	open := bytes.IndexByte(s, '(')
	if open <= 0 {
		return fp, "\"func() {\", \"func();\" or \"}\""
	}
	fp.name = trimRight(s[:open])
	if len(fp.name) == 0 {
		return fp, "a function name"
	}
	depth, close := 0, -1
	for i := open; i < len(s); i++ {
		if s[i] == '(' {
			depth++
		} else if s[i] == ')' {
			depth--
			if depth == 0 {
				close = i
				break
			}
		}
	}
	if close < 0 {
		return fp, "\")\" closing the call"
	}
	fp.args = trim(s[open+1 : close])
	rest := trimLeft(s[close+1:])
	if len(rest) == 0 {
		return fp, "\"{\" or \";\" after the call"
	}
	switch rest[0] {
	case '{':
		fp.kind = fnEnter
	case ';':
		fp.kind = fnLeaf
	default:
		return fp, "\"{\" or \";\" after the call"
	}
	return fp, fp.trailer(rest[1:])
}

// trailer parses what may follow a call or a "}": comments with the tail
// name, the return value or the return address, trace-cmd's depth "(N)"
// and return value "(ret=N)".
func (fp *fnPart) trailer(s []byte) string {
	for {
		s = trimLeft(s)
		if len(s) == 0 {
			return ""
		}
		switch {
		case len(s) >= 2 && s[0] == '/' && s[1] == '*':
			e := bytes.Index(s[2:], []byte("*/"))
			if e < 0 {
				return "\"*/\" closing the comment"
			}
			fp.comment(trim(s[2 : 2+e]))
			s = s[2+e+2:]
		case s[0] == '(':
			e := bytes.IndexByte(s, ')')
			if e < 0 {
				return "\")\" closing the parenthesis"
			}
			in := trim(s[1:e])
			if d, ok := atoi(in); ok {
				fp.depth = d
			} else if bytes.HasPrefix(in, []byte("ret=")) {
				fp.ret = trim(in[4:])
			}
			s = s[e+1:]
		default:
			// Anything else printed after the call is kept out of the
			// model but does not make the line unreadable.
			fp.junk = true
			return ""
		}
	}
}

// comment reads a comment after a call: "<-caller+0x12/0x40",
// "func = -22", "= 0x0", "ret=0x0", "func ret=0x0" or "func".
func (fp *fnPart) comment(c []byte) {
	if bytes.HasPrefix(c, []byte("<-")) {
		fp.caller = trim(c[2:])
		return
	}
	if i := bytes.Index(c, []byte("ret=")); i >= 0 && (i == 0 || isSpace(c[i-1])) {
		fp.ret = firstField(c[i+4:])
		fp.setTail(trim(c[:i]))
		return
	}
	if bytes.HasPrefix(c, []byte("=")) {
		fp.ret = firstField(trimLeft(c[1:]))
		return
	}
	if i := bytes.Index(c, []byte(" = ")); i >= 0 {
		fp.ret = firstField(trimLeft(c[i+3:]))
		fp.setTail(trim(c[:i]))
		return
	}
	fp.setTail(c)
}

// setTail records the function name an exit's comment gives ("func" or, in
// the kernel's documentation, "func()"); calls ignore it.
func (fp *fnPart) setTail(n []byte) {
	if fp.kind != fnExit || len(n) == 0 {
		return
	}
	fp.name = bytes.TrimSuffix(n, []byte("()"))
}

func firstField(s []byte) []byte {
	s = trimLeft(s)
	for i, c := range s {
		if isSpace(c) {
			return s[:i]
		}
	}
	return s
}

// eventName returns the event a comment's text names: the leading word of
// "sched_switch: prev_comm=...", "sys_brk(brk: 0)" or "sys_brk -> 0x0",
// else "comment".
func eventName(text []byte) []byte {
	i := 0
	for i < len(text) && (text[i] == '_' || isDigit(text[i]) || text[i]|0x20 >= 'a' && text[i]|0x20 <= 'z') {
		i++
	}
	if i == 0 || i == len(text) {
		return commentName
	}
	switch {
	case text[i] == ':', text[i] == '(', bytes.HasPrefix(text[i:], []byte(" ->")):
		return text[:i]
	}
	return commentName
}

// isIRQFlags reports whether latency flags ("d.h1", "..s2.") say the line
// ran in hard or soft interrupt (or NMI) context: the third flag.
func isIRQFlags(f []byte) bool {
	if len(f) < 3 {
		return false
	}
	switch f[2] {
	case 'h', 'H', 's', 'z', 'Z':
		return true
	}
	return false
}

// isLatFlags reports whether cell looks like the latency-format flags
// column: 4 to 6 characters such as "d..2", "...1.", "dNh2.".
func isLatFlags(cell []byte) bool {
	if len(cell) < 4 || len(cell) > 6 {
		return false
	}
	dot := false
	for _, c := range cell {
		switch {
		case c == '.':
			dot = true
		case isDigit(c), c >= 'a' && c <= 'f':
		case c == 'D', c == 'X', c == 'N', c == 'n', c == 'p', c == 'P', c == 'B', c == 'H', c == 'h',
			c == 's', c == 'S', c == 'Z', c == 'z', c == 'b':
		default:
			return false
		}
	}
	return dot || cell[0] == 'd' || cell[0] == 'X'
}

// splitCommPID splits "comm-pid" at its last dash. comm may itself hold
// dashes and spaces ("reqlab-srv-158", "reqlab--324", "Web Con-2011").
func splitCommPID(s []byte) (comm []byte, pid int32, ok bool) {
	d := bytes.LastIndexByte(s, '-')
	if d < 0 {
		return nil, 0, false
	}
	pid, ok = atoi(s[d+1:])
	return s[:d], pid, ok
}

// lostEvents parses "CPU:2 [LOST 11745 EVENTS]", "CPU:1 [12 EVENTS DROPPED]",
// "CPU:1 [EVENTS DROPPED]" and "[LOST 7 EVENTS]": the CPU (-1 if not said)
// and the count (-1 if not said).
func lostEvents(s []byte) (cpu int16, count int64, ok bool) {
	cpu, count = -1, -1
	if bytes.HasPrefix(s, []byte("CPU:")) {
		i := 4
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		c, good := atoi(s[4:i])
		if !good || c > 1<<14 {
			return 0, 0, false
		}
		cpu = int16(c)
		s = trimLeft(s[i:])
	}
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return 0, 0, false
	}
	in := s[1 : len(s)-1]
	switch {
	case string(in) == "LOST EVENTS":
		in = nil // the prefix and suffix share the space
	case bytes.HasPrefix(in, []byte("LOST ")) && bytes.HasSuffix(in, []byte(" EVENTS")):
		in = trim(in[5 : len(in)-7])
	case bytes.HasSuffix(in, []byte("EVENTS DROPPED")):
		in = trim(in[:len(in)-14])
	default:
		return 0, 0, false
	}
	if len(in) > 0 {
		n, good := parseFixed(in, 0)
		if !good {
			return 0, 0, false
		}
		count = n
	}
	return cpu, count, true
}

// stackNote assembles a kernel stack printed after a "<stack trace>" event,
// one "=> func" line at a time, into the event's note.
type stackNote struct {
	id  NodeID // the stack's event node, or None when no stack is open
	buf []byte
}

func (sn *stackNote) start(id NodeID) {
	sn.id = id
	sn.buf = append(sn.buf[:0], "<stack trace>"...)
}

// frame adds the frame line s ("=> schedule (ffffffff814b260e)").
func (sn *stackNote) frame(s []byte) bool {
	if sn.id == None {
		return false
	}
	sn.buf = append(sn.buf, ' ')
	sn.buf = append(sn.buf, s...)
	return true
}

// flush closes the open stack, if any, storing its note.
func (sn *stackNote) flush(b *Builder) {
	if sn.id != None {
		b.SetNote(sn.id, string(sn.buf))
		sn.id = None
	}
}

// warnBad records a line that looks like a trace line but cannot be read.
func warnBad(b *Builder, line int, expected string, found []byte) {
	if len(found) > 60 {
		found = found[:60]
	}
	b.Warnf(line, "expected %s, found %q", expected, found)
}

// scoreLines counts the lines of head that classify gives a positive
// weight, ignoring a last line cut by the end of head.
func scoreLines(head []byte, classify func(line []byte) int) int {
	score := 0
	whole := len(head) < headSize // the input's end is in head
	for len(head) > 0 {
		var line []byte
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else if whole {
			line, head = head, nil
		} else {
			break
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		score += classify(line)
	}
	return score
}
