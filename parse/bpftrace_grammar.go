package parse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The grammar of one bpftrace map entry whose key holds a stack, as bpftrace
// prints maps at exit:
//
//	@name[pid, comm,           <- Open, then the keys printed before the stack
//	    tcp_recvmsg+1          <- Frame, leaf first, any indentation
//	    inet_recvmsg+82
//	, more]: 3                 <- keys printed after the stack, Close, Value
//
// or, for a histogram value, "]:" followed by rows "[8K, 16K)  560 |@@@|".
// The tokens are whole lines (or the comma-separated keys of the first and
// last line), made by btLexer from the lines the scanner in bpftrace.go
// gathered; participle checks their order and keeps each one's position.
// Parsing a map entry costs some microseconds, which is why only map
// entries go through participle and the per-line loop is hand-written
// (BenchmarkBpftrace measures both together).

// btEntry is one map entry with a stack in its key.
type btEntry struct {
	Pos    lexer.Position
	Name   string     `parser:"@Open"`
	Pre    []string   `parser:"(@Key Comma)*"`
	Frames []*btFrame `parser:"@@*"`
	Post   []string   `parser:"(Comma @Key)*"`
	Close  bool       `parser:"@Close"`
	Value  string     `parser:"@Value?"`
	Hist   []*btHist  `parser:"@@*"`
}

// btFrame is one line of a stack key.
type btFrame struct {
	Pos  lexer.Position
	Text string `parser:"@Frame"`
}

// btHist is one row of a histogram value.
type btHist struct {
	Pos lexer.Position
	Row string `parser:"@Hist"`
}

// Token types of btLexer.
const (
	btOpen lexer.TokenType = -(iota + 2)
	btKey
	btComma
	btFrameTok
	btText
	btClose
	btValue
	btHistTok
)

var btSymbols = map[string]lexer.TokenType{
	"EOF": lexer.EOF, "Open": btOpen, "Key": btKey, "Comma": btComma, "Frame": btFrameTok,
	"Text": btText, "Close": btClose, "Value": btValue, "Hist": btHistTok,
}

// btLexDef declares the token types to participle; the tokens themselves
// come from btLexer via ParseFromLexer.
type btLexDef struct{}

func (btLexDef) Symbols() map[string]lexer.TokenType { return btSymbols }

func (btLexDef) Lex(string, io.Reader) (lexer.Lexer, error) {
	return nil, errors.New("bpftrace map entries are lexed from gathered lines")
}

// btParser is built once: building a participle parser is costly.
var btParser = participle.MustBuild[btEntry](participle.Lexer(btLexDef{}), participle.UseLookahead(2))

// btLexer yields the tokens of a gathered map entry.
type btLexer struct {
	toks []lexer.Token
	i    int
	end  lexer.Position
}

func (l *btLexer) Next() (lexer.Token, error) {
	if l.i >= len(l.toks) {
		return lexer.EOFToken(l.end), nil
	}
	l.i++
	return l.toks[l.i-1], nil
}

// btBlockLine is one gathered line of a map entry.
type btBlockLine struct {
	text []byte
	line int
}

// btLexMapEntry turns the gathered lines of a map entry into tokens. The first
// line opens the entry ("@name[" and maybe keys); a line starting with "]"
// or "," and holding "]:" closes it; histogram rows may follow.
func btLexMapEntry(file string, lines []btBlockLine) *btLexer {
	l := &btLexer{}
	pos := func(ln, col int) lexer.Position { return lexer.Position{Filename: file, Line: ln, Column: col} }
	closed := false
	for i, bl := range lines {
		t := stTrim(bl.text)
		switch {
		case i == 0 || (!closed && btIsMapOpen(t)):
			name, rest := btSplitMapOpen(t)
			l.toks = append(l.toks, lexer.Token{Type: btOpen, Value: string(name), Pos: pos(bl.line, 1)})
			btLexKeys(l, rest, pos(bl.line, len(name)+3), false)
		case closed:
			if len(t) > 0 {
				l.toks = append(l.toks, lexer.Token{Type: btHistTok, Value: string(t), Pos: pos(bl.line, 1)})
			}
		case btIsMapClose(t):
			k := bytes.Index(t, []byte("]:"))
			btLexKeys(l, t[:k], pos(bl.line, 1), true)
			l.toks = append(l.toks, lexer.Token{Type: btClose, Value: "]:", Pos: pos(bl.line, k+1)})
			if v := stTrim(t[k+2:]); len(v) > 0 {
				l.toks = append(l.toks, lexer.Token{Type: btValue, Value: string(v), Pos: pos(bl.line, k+3)})
			}
			closed = true
		case len(t) == 0:
			// A blank line inside a key: bpftrace's perf mode prints one.
		default:
			typ := btText
			if _, ok := btKeyFrameText(bl.text); ok {
				typ = btFrameTok
			}
			l.toks = append(l.toks, lexer.Token{Type: typ, Value: string(t), Pos: pos(bl.line, 1)})
		}
	}
	if n := len(lines); n > 0 {
		l.end = pos(lines[n-1].line+1, 1)
	}
	return l
}

// btLexKeys appends the comma-separated keys of s. after says whether s
// follows the stack (", comm") rather than precedes it ("pid, comm, ").
func btLexKeys(l *btLexer, s []byte, p lexer.Position, after bool) {
	for len(s) > 0 {
		var k []byte
		comma := bytes.IndexByte(s, ',')
		if comma >= 0 {
			k, s = s[:comma], s[comma+1:]
		} else {
			k, s = s, nil
		}
		k = stTrim(k)
		if after && comma >= 0 {
			if len(k) > 0 {
				l.toks = append(l.toks, lexer.Token{Type: btKey, Value: string(k), Pos: p})
			}
			l.toks = append(l.toks, lexer.Token{Type: btComma, Value: ",", Pos: p})
			continue
		}
		if len(k) > 0 {
			l.toks = append(l.toks, lexer.Token{Type: btKey, Value: string(k), Pos: p})
		}
		if comma >= 0 {
			l.toks = append(l.toks, lexer.Token{Type: btComma, Value: ",", Pos: p})
		}
	}
}

// btIsMapOpen reports whether trimmed line t opens a map entry: "@[" or
// "@name[".
func btIsMapOpen(t []byte) bool {
	if len(t) < 2 || t[0] != '@' {
		return false
	}
	for i := 1; i < len(t); i++ {
		c := t[i]
		if c == '[' {
			return true
		}
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return false
}

// btSplitMapOpen splits "@name[rest" into name and rest.
func btSplitMapOpen(t []byte) (name, rest []byte) {
	i := bytes.IndexByte(t, '[')
	if i < 1 {
		return nil, nil
	}
	return t[1:i], t[i+1:]
}

// btIsMapClose reports whether trimmed line t closes a stack key: "]: 3",
// "]:" or ", comm]: 3".
func btIsMapClose(t []byte) bool {
	if len(t) == 0 || (t[0] != ']' && t[0] != ',') {
		return false
	}
	return bytes.Contains(t, []byte("]:"))
}

// btIsHistRow reports whether trimmed line t is a histogram row
// ("[8K, 16K)   560 |@@@@|").
func btIsHistRow(t []byte) bool {
	return len(t) > 2 && (t[0] == '[' || t[0] == '(') && bytes.IndexByte(t, '|') > 0
}

// btHistCount returns the count of a histogram row: the last field before
// the first "|".
func btHistCount(row string) (int64, bool) {
	i := bytes.IndexByte([]byte(row), '|')
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields([]byte(row[:i]))
	if len(f) == 0 {
		return 0, false
	}
	return stParseCount(f[len(f)-1])
}

// btMapEntryError converts a participle error into a positioned *Error saying
// what was expected and what was found.
func btMapEntryError(b *Builder, err error, open int) error {
	var ute *participle.UnexpectedTokenError
	if errors.As(err, &ute) {
		tok := ute.Unexpected
		found := describeBtToken(tok)
		line := tok.Pos.Line
		expected := "a stack frame or the \"]: value\" closing the map key opened at line " + strconv.Itoa(open)
		switch tok.Type {
		case btKey, btComma:
			expected = "one key list before or after the stack, then \"]: value\""
		case btHistTok:
			expected = "histogram rows only after \"]:\" with no value"
		case lexer.EOF:
			line--
		}
		return &Error{File: b.t.Path, Line: line, Offset: -1, Msg: fmt.Sprintf("expected %s, found %s", expected, found), Err: btTruncatedIf(tok.Type == lexer.EOF)}
	}
	var pe participle.Error
	if errors.As(err, &pe) {
		return &Error{File: b.t.Path, Line: pe.Position().Line, Offset: -1, Msg: "expected a bpftrace map entry, found " + pe.Message()}
	}
	return &Error{File: b.t.Path, Line: open, Offset: -1, Msg: "reading bpftrace map entry", Err: err}
}

// btTruncatedIf returns ErrTruncated when cut is true, else nil.
func btTruncatedIf(cut bool) error {
	if cut {
		return ErrTruncated
	}
	return nil
}

func describeBtToken(t lexer.Token) string {
	v := []byte(t.Value)
	switch t.Type {
	case lexer.EOF:
		return "end of input"
	case btOpen:
		return "another map entry \"@" + t.Value + "[\""
	case btText:
		return "text " + stQuote(v)
	case btFrameTok:
		return "frame " + stQuote(v)
	case btKey:
		return "key " + stQuote(v)
	case btComma:
		return "\",\""
	case btClose:
		return "\"]:\""
	case btValue:
		return "value " + stQuote(v)
	case btHistTok:
		return "histogram row " + stQuote(v)
	}
	return stQuote(v)
}
