package diff

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/tracediff/tracediff/parse"
)

// The --where filter language selects calls by the call's own fields and
// its task's, in the spirit of bpftrace predicates:
//
//	comm == "nginx" && duration > 100us && !irq
//
// Grammar, loosest binding first:
//
//	expr    = and { "||" and }
//	and     = unary { "&&" unary }
//	unary   = "!" unary | "(" expr ")" | flag | field op value
//	op      = "==" | "!=" | "<" | "<=" | ">" | ">=" | "=~" | "!~"
//	value   = string | number | duration
//
// Fields:
//
//	comm              string    the task's command name
//	pid               integer   the task's pid
//	cpu               integer   the CPU the call was recorded on
//	name (or func)    string    the normalised function name (see parse.Normalize)
//	raw               string    the function name as printed
//	ret               string    the printed return value; compared with a
//	                            number, it is read as an integer
//	duration          duration  100us, 2ms, 1.5s, 500ns, 3µs; a bare number is ns
//	depth             integer   calls between this one and its task's root (a root is 0)
//	line              integer   the source line (record number for binary input)
//	irq orphan unclosed lost leaf
//	                  flags     used bare or negated: irq, !leaf
//
// Strings are double-quoted with Go escapes. "==" and "!=" compare strings
// exactly; "=~" and "!~" match a Go regular expression (RE2 syntax,
// unanchored: name =~ "^tcp_" for a prefix), compiled when the filter is
// parsed. Only integers and durations are ordered ("<" on a string is an
// error). A value the capture did not record (an unknown duration, pid, cpu
// or comm, a return value that was not printed) makes every comparison on
// it false, so "duration < 1ms" does not select calls of unknown duration.
//
// Parsing is done by participle with one parser built at package level; its
// errors, like type errors found afterwards, become a *FilterError with the
// position of the offending token.

// Filter is a parsed --where expression. It is immutable and safe for
// concurrent use; [Filter.Bind] prepares it for one trace.
type Filter struct {
	root *fltNode
	// slots counts the comparisons whose results a BoundFilter caches
	// (per name id for name and raw, per task for comm).
	slots int
}

// FilterError is a syntax or type error in a --where expression.
type FilterError struct {
	Expr string // the expression as given
	Pos  int    // byte offset of the offending token in Expr
	Msg  string // what is wrong, without position
}

// Error returns the message, prefixed "--where: ", followed by the
// expression and a line with a caret under the offending token.
func (e *FilterError) Error() string {
	var b strings.Builder
	b.WriteString("--where: ")
	b.WriteString(e.Msg)
	b.WriteByte('\n')
	col := 0
	for i, r := range e.Expr {
		if i < e.Pos {
			col++
		}
		if r < ' ' || r == 0x7f {
			r = ' ' // keep one line, and the caret aligned
		}
		b.WriteRune(r)
	}
	if e.Pos > len(e.Expr) {
		col = utf8.RuneCountInString(e.Expr)
	}
	b.WriteByte('\n')
	b.WriteString(strings.Repeat(" ", col))
	b.WriteByte('^')
	return b.String()
}

// Grammar. Each node keeps its position for errors.

type fltOr struct {
	Pos   lexer.Position
	Left  *fltAnd   `parser:"@@"`
	Right []*fltAnd `parser:"( \"||\" @@ )*"`
}

type fltAnd struct {
	Pos   lexer.Position
	Left  *fltUnary   `parser:"@@"`
	Right []*fltUnary `parser:"( \"&&\" @@ )*"`
}

type fltUnary struct {
	Pos   lexer.Position
	Not   *fltUnary `parser:"  \"!\" @@"`
	Group *fltOr    `parser:"| \"(\" @@ \")\""`
	Cmp   *fltCmp   `parser:"| @@"`
}

type fltCmp struct {
	Pos   lexer.Position
	Field string    `parser:"@Ident"`
	Op    *fltOp    `parser:"( @@"`
	Value *fltValue `parser:"  @@ )?"`
}

type fltOp struct {
	Pos lexer.Position
	Op  string `parser:"@( \"==\" | \"!=\" | \"<=\" | \">=\" | \"<\" | \">\" | \"=~\" | \"!~\" )"`
}

// fltValue accepts an identifier so that an unquoted string gets a helpful
// error rather than a bare syntax error.
type fltValue struct {
	Pos   lexer.Position
	Str   *string `parser:"  @String"`
	Num   *string `parser:"| @Number"`
	Ident *string `parser:"| @Ident"`
}

// fltLexer's Number token takes any letters after the digits (100us, 0x1f,
// 12abc) so that a bad unit is reported as one token.
var fltLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Whitespace", Pattern: `\s+`},
	{Name: "String", Pattern: `"(\\.|[^"\\])*"`},
	{Name: "Number", Pattern: `-?[0-9][0-9A-Za-z_.µ]*`},
	{Name: "Ident", Pattern: `[A-Za-z_][A-Za-z0-9_]*`},
	{Name: "Op", Pattern: `==|!=|<=|>=|=~|!~|&&|\|\||[!<>()=&|]`},
})

// fltParser is built once: building a participle parser is costly.
var fltParser = participle.MustBuild[fltOr](
	participle.Lexer(fltLexer),
	participle.Elide("Whitespace"),
	participle.UseLookahead(2),
)

// maxFilterNesting bounds the parentheses and negations of an expression,
// which the parser and the evaluator follow by recursion.
const maxFilterNesting = 256

// Compiled form.

type fltKind uint8

const (
	fltOrK fltKind = iota
	fltAndK
	fltNotK
	fltFlagK
	fltCmpK
)

type fltField uint8

const (
	fComm fltField = iota
	fPID
	fCPU
	fName
	fRaw
	fRet
	fDuration
	fDepth
	fLine
	fIRQ
	fOrphan
	fUnclosed
	fLost
	fLeaf
)

type fltType uint8

const (
	tString fltType = iota
	tInt
	tDuration
	tFlag
	tRet // a string, or an integer when compared with a number
)

type fltFieldInfo struct {
	name string // canonical name
	f    fltField
	typ  fltType
}

var fltFields = map[string]fltFieldInfo{
	"comm":     {"comm", fComm, tString},
	"pid":      {"pid", fPID, tInt},
	"cpu":      {"cpu", fCPU, tInt},
	"name":     {"name", fName, tString},
	"func":     {"name", fName, tString},
	"raw":      {"raw", fRaw, tString},
	"ret":      {"ret", fRet, tRet},
	"duration": {"duration", fDuration, tDuration},
	"depth":    {"depth", fDepth, tInt},
	"line":     {"line", fLine, tInt},
	"irq":      {"irq", fIRQ, tFlag},
	"orphan":   {"orphan", fOrphan, tFlag},
	"unclosed": {"unclosed", fUnclosed, tFlag},
	"lost":     {"lost", fLost, tFlag},
	"leaf":     {"leaf", fLeaf, tFlag},
}

const fltFieldList = "comm, pid, cpu, name, func, raw, ret, duration, depth, line, irq, orphan, unclosed, lost, leaf"

var fltFlagBits = [...]parse.Flags{fIRQ: parse.FlagIRQ, fOrphan: parse.FlagOrphan, fUnclosed: parse.FlagUnclosed, fLost: parse.FlagLost}

type fltCmpOp uint8

const (
	cEq fltCmpOp = iota
	cNe
	cLt
	cLe
	cGt
	cGe
	cMatch
	cNoMatch
)

var fltCmpOps = map[string]fltCmpOp{"==": cEq, "!=": cNe, "<": cLt, "<=": cLe, ">": cGt, ">=": cGe, "=~": cMatch, "!~": cNoMatch}

var fltCmpNames = [...]string{cEq: "==", cNe: "!=", cLt: "<", cLe: "<=", cGt: ">", cGe: ">=", cMatch: "=~", cNoMatch: "!~"}

// fltNode is one node of a compiled expression.
type fltNode struct {
	kind  fltKind
	kids  []*fltNode // operands of || and &&, the operand of !
	field fltField
	typ   fltType // the type compared: tString, tInt or tDuration
	op    fltCmpOp
	num   int64
	str   string
	re    *regexp.Regexp
	slot  int // cache slot in a BoundFilter, or -1
}

// ParseFilter parses a --where expression. Syntax and type errors are
// returned as a *FilterError.
func ParseFilter(expr string) (f *Filter, err error) {
	defer func() {
		// A safety net: the parser and the checks below are not meant to
		// panic, and no input may make the command crash.
		if r := recover(); r != nil {
			f, err = nil, &FilterError{Expr: expr, Msg: fmt.Sprintf("internal error: %v", r)}
		}
	}()
	all, err := fltParser.Lex("", strings.NewReader(expr))
	if err != nil {
		return nil, fltConvert(expr, nil, err)
	}
	toks := all[:0]
	for _, t := range all {
		if t.Type != fltSpaceType {
			toks = append(toks, t)
		}
	}
	if len(toks) == 0 || toks[0].EOF() {
		return nil, &FilterError{Expr: expr, Pos: 0, Msg: "empty expression"}
	}
	nest := 0
	for _, t := range toks {
		if t.Value == "(" || t.Value == "!" {
			if nest++; nest > maxFilterNesting {
				return nil, &FilterError{Expr: expr, Pos: t.Pos.Offset, Msg: fmt.Sprintf("more than %d parentheses and negations", maxFilterNesting)}
			}
		}
	}
	ast, err := fltParser.ParseString("", expr)
	if err != nil {
		return nil, fltConvert(expr, toks, err)
	}
	f = &Filter{}
	c := fltCompiler{expr: expr, f: f}
	root, err := c.or(ast)
	if err != nil {
		return nil, err
	}
	f.root = root
	return f, nil
}

// fltConvert turns a participle error into a *FilterError whose message
// says what was expected after which token.
func fltConvert(expr string, toks []lexer.Token, err error) error {
	var perr participle.Error
	if !errors.As(err, &perr) {
		return &FilterError{Expr: expr, Pos: 0, Msg: err.Error()}
	}
	pos := perr.Position().Offset
	if toks == nil { // a lexer error: a character no token starts with
		r, _ := utf8.DecodeRuneInString(expr[min(pos, len(expr)):])
		if r == '"' {
			return &FilterError{Expr: expr, Pos: pos, Msg: "string not terminated"}
		}
		return &FilterError{Expr: expr, Pos: pos, Msg: fmt.Sprintf("unexpected character %q", string(r))}
	}
	i := 0
	for i < len(toks)-1 && toks[i].Pos.Offset < pos {
		i++
	}
	bad := toks[i]
	depth := 0
	for _, t := range toks[:i] {
		switch t.Value {
		case "(":
			depth++
		case ")":
			depth--
		}
	}
	found := fltDescribe(bad)
	msg := ""
	var prev *lexer.Token
	if i > 0 {
		prev = &toks[i-1]
	}
	switch {
	case !bad.EOF() && (bad.Value == "=" || bad.Value == "&" || bad.Value == "|"):
		msg = fmt.Sprintf("unknown operator %q: use %q", bad.Value, bad.Value+bad.Value)
	case prev != nil && fltIsCmpOp(*prev):
		msg = fmt.Sprintf("expected a value after %q, found %s", prev.Value, found)
	case prev == nil:
		msg = "expected a condition, found " + found
	case prev.Value == "&&" || prev.Value == "||" || prev.Value == "!" || prev.Value == "(":
		msg = fmt.Sprintf("expected a condition after %q, found %s", prev.Value, found)
	case !bad.EOF() && bad.Value == ")" && depth == 0:
		msg = `")" without a matching "("`
	default:
		want := `"&&", "||" or the end`
		if depth > 0 {
			want = `"&&", "||" or ")"`
		}
		if info, ok := fltFields[prev.Value]; ok && prev.Type == fltIdentType && info.typ != tFlag {
			want = "a comparison"
		}
		msg = fmt.Sprintf("expected %s after %s, found %s", want, fltDescribe(*prev), found)
	}
	return &FilterError{Expr: expr, Pos: bad.Pos.Offset, Msg: msg}
}

var (
	fltStringType = fltLexer.Symbols()["String"]
	fltSpaceType  = fltLexer.Symbols()["Whitespace"]
	fltIdentType  = fltLexer.Symbols()["Ident"]
	fltOpType     = fltLexer.Symbols()["Op"]
)

func fltIsCmpOp(t lexer.Token) bool {
	_, ok := fltCmpOps[t.Value]
	return ok && t.Type == fltOpType
}

// fltDescribe names a token for an error message.
func fltDescribe(t lexer.Token) string {
	if t.EOF() {
		return "the end of the expression"
	}
	v := t.Value
	if utf8.RuneCountInString(v) > 24 {
		r := []rune(v)
		v = string(r[:20]) + "…"
	}
	if t.Type == fltStringType {
		return "string " + v
	}
	return strconv.Quote(v)
}

// fltCompiler turns the grammar's tree into fltNodes, checking types.
type fltCompiler struct {
	expr string
	f    *Filter
}

func (c *fltCompiler) errorf(pos lexer.Position, format string, args ...any) error {
	return &FilterError{Expr: c.expr, Pos: pos.Offset, Msg: fmt.Sprintf(format, args...)}
}

func (c *fltCompiler) or(g *fltOr) (*fltNode, error) {
	n := &fltNode{kind: fltOrK, slot: -1}
	for _, a := range append([]*fltAnd{g.Left}, g.Right...) {
		k, err := c.and(a)
		if err != nil {
			return nil, err
		}
		if k.kind == fltOrK { // a parenthesised ||: flatten
			n.kids = append(n.kids, k.kids...)
		} else {
			n.kids = append(n.kids, k)
		}
	}
	if len(n.kids) == 1 {
		return n.kids[0], nil
	}
	return n, nil
}

func (c *fltCompiler) and(g *fltAnd) (*fltNode, error) {
	n := &fltNode{kind: fltAndK, slot: -1}
	for _, u := range append([]*fltUnary{g.Left}, g.Right...) {
		k, err := c.unary(u)
		if err != nil {
			return nil, err
		}
		if k.kind == fltAndK {
			n.kids = append(n.kids, k.kids...)
		} else {
			n.kids = append(n.kids, k)
		}
	}
	if len(n.kids) == 1 {
		return n.kids[0], nil
	}
	return n, nil
}

func (c *fltCompiler) unary(g *fltUnary) (*fltNode, error) {
	switch {
	case g.Not != nil:
		k, err := c.unary(g.Not)
		if err != nil {
			return nil, err
		}
		return &fltNode{kind: fltNotK, kids: []*fltNode{k}, slot: -1}, nil
	case g.Group != nil:
		return c.or(g.Group)
	}
	return c.cmp(g.Cmp)
}

func (c *fltCompiler) cmp(g *fltCmp) (*fltNode, error) {
	info, ok := fltFields[g.Field]
	if !ok {
		return nil, c.errorf(g.Pos, "unknown field %q (fields: %s)", g.Field, fltFieldList)
	}
	n := &fltNode{kind: fltCmpK, field: info.f, typ: info.typ, slot: -1}
	if info.typ == tFlag {
		if g.Op != nil {
			return nil, c.errorf(g.Op.Pos, "%s is a flag and takes no comparison: write %s or !%s", info.name, info.name, info.name)
		}
		n.kind = fltFlagK
		return n, nil
	}
	if g.Op == nil {
		return nil, c.errorf(g.Pos, "%s is not a flag: compare it with a value, as in %s", g.Field, fltExample(info))
	}
	n.op = fltCmpOps[g.Op.Op]
	v := g.Value
	switch {
	case v.Ident != nil:
		return nil, c.errorf(v.Pos, "expected a value after %q, found %q (strings take double quotes)", g.Op.Op, *v.Ident)
	case v.Str != nil:
		if info.typ != tString && info.typ != tRet {
			return nil, c.errorf(v.Pos, "%s takes %s, found string %s", info.name, fltTypeName(info.typ), *v.Str)
		}
		s, err := strconv.Unquote(*v.Str)
		if err != nil {
			return nil, c.errorf(v.Pos, "bad string %s: %v", *v.Str, err)
		}
		n.typ, n.str = tString, s
		switch n.op {
		case cLt, cLe, cGt, cGe:
			return nil, c.errorf(g.Op.Pos, "%q does not apply to strings: use ==, !=, =~ or !~", g.Op.Op)
		case cMatch, cNoMatch:
			re, err := regexp.Compile(s)
			if err != nil {
				msg := strings.TrimPrefix(err.Error(), "error parsing regexp: ")
				return nil, c.errorf(v.Pos, "bad regular expression: %s", msg)
			}
			n.re = re
		}
	default: // a number
		if info.typ == tString {
			return nil, c.errorf(v.Pos, "%s takes a string in double quotes, found %q", info.name, *v.Num)
		}
		if n.op == cMatch || n.op == cNoMatch {
			return nil, c.errorf(g.Op.Pos, "%q applies to strings only", g.Op.Op)
		}
		var err error
		if info.typ == tDuration {
			n.num, err = fltParseDuration(*v.Num)
		} else {
			n.typ = tInt
			n.num, err = fltParseInt(*v.Num)
		}
		if err != nil {
			return nil, c.errorf(v.Pos, "%s takes %s, found %q: %v", info.name, fltTypeName(info.typ), *v.Num, err)
		}
	}
	if n.typ == tString && (n.field == fName || n.field == fRaw || n.field == fComm) {
		n.slot = c.f.slots
		c.f.slots++
	}
	return n, nil
}

func fltTypeName(t fltType) string {
	switch t {
	case tString:
		return "a string"
	case tInt:
		return "an integer"
	case tDuration:
		return "a duration such as 100us"
	case tRet:
		return "a string or an integer"
	}
	return "no value"
}

func fltExample(info fltFieldInfo) string {
	switch info.typ {
	case tInt:
		return info.name + " == 42"
	case tDuration:
		return info.name + " > 100us"
	case tRet:
		return info.name + " < 0"
	}
	if info.name == "comm" {
		return `comm == "nginx"`
	}
	return info.name + ` =~ "^tcp_"`
}

// fltParseInt reads a decimal, 0x hex, 0o octal or 0b binary integer.
func fltParseInt(s string) (int64, error) {
	v, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return 0, errors.New("out of range")
		}
		return 0, errors.New("not an integer")
	}
	return v, nil
}

var fltUnits = []struct {
	name string
	ns   int64
}{{"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}}

// fltParseDuration reads "100us", "1.5s", "-2ms" or a bare number of ns,
// exactly (no floating point), to the nanosecond.
func fltParseDuration(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	end := 0
	for end < len(body) && (body[end] >= '0' && body[end] <= '9' || body[end] == '.') {
		end++
	}
	num, unit := body[:end], body[end:]
	scale := int64(-1)
	for _, u := range fltUnits {
		if u.name == unit {
			scale = u.ns
		}
	}
	if unit == "" {
		scale = 1
	}
	if scale < 0 {
		return 0, fmt.Errorf("unknown unit %q (units: ns, us, ms, s)", unit)
	}
	whole, frac, dot := strings.Cut(num, ".")
	if whole == "" || dot && frac == "" || strings.Contains(frac, ".") {
		return 0, errors.New("not a number")
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > (1<<63-1)/scale {
		return 0, errors.New("out of range")
	}
	v := w * scale
	// The fraction in units of scale: each digit divides the unit by 10.
	step := scale
	for _, d := range frac {
		step /= 10
		if step == 0 {
			if d != '0' {
				return 0, errors.New("finer than a nanosecond")
			}
			continue
		}
		add := int64(d-'0') * step
		if v > 1<<63-1-add {
			return 0, errors.New("out of range")
		}
		v += add
	}
	if neg {
		v = -v
	}
	return v, nil
}

// fltFormatDuration writes ns in the largest unit that keeps it readable,
// exactly: 1500000000 is "1.5s", 100000 is "100us".
func fltFormatDuration(ns int64) string {
	sign := ""
	u := uint64(ns)
	if ns < 0 {
		sign, u = "-", uint64(-ns) // -MinInt64 wraps to its own magnitude as uint64
	}
	name, scale := "ns", uint64(1)
	for _, s := range []struct {
		name  string
		scale uint64
	}{{"s", 1e9}, {"ms", 1e6}, {"us", 1e3}} {
		if u >= s.scale {
			name, scale = s.name, s.scale
			break
		}
	}
	out := sign + strconv.FormatUint(u/scale, 10)
	if f := u % scale; f != 0 {
		digits := len(strconv.FormatUint(scale, 10)) - 1
		fs := strconv.FormatUint(f, 10)
		fs = strings.Repeat("0", digits-len(fs)) + fs
		out += "." + strings.TrimRight(fs, "0")
	}
	return out + name
}

// String returns the expression in canonical form: "func" spelled "name",
// strings quoted as Go does, durations in their largest exact unit,
// parentheses only where needed and around a negated comparison. The form
// parses back to the same filter.
func (f *Filter) String() string {
	if f == nil || f.root == nil {
		return ""
	}
	var b strings.Builder
	f.root.write(&b)
	return b.String()
}

var fltFieldNames = [...]string{fComm: "comm", fPID: "pid", fCPU: "cpu", fName: "name", fRaw: "raw", fRet: "ret",
	fDuration: "duration", fDepth: "depth", fLine: "line", fIRQ: "irq", fOrphan: "orphan", fUnclosed: "unclosed",
	fLost: "lost", fLeaf: "leaf"}

func (n *fltNode) write(b *strings.Builder) {
	switch n.kind {
	case fltOrK, fltAndK:
		sep := " || "
		if n.kind == fltAndK {
			sep = " && "
		}
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			paren := n.kind == fltAndK && k.kind == fltOrK
			if paren {
				b.WriteByte('(')
			}
			k.write(b)
			if paren {
				b.WriteByte(')')
			}
		}
	case fltNotK:
		b.WriteByte('!')
		k := n.kids[0]
		paren := k.kind != fltFlagK && k.kind != fltNotK
		if paren {
			b.WriteByte('(')
		}
		k.write(b)
		if paren {
			b.WriteByte(')')
		}
	case fltFlagK:
		b.WriteString(fltFieldNames[n.field])
	case fltCmpK:
		b.WriteString(fltFieldNames[n.field])
		b.WriteByte(' ')
		b.WriteString(fltCmpNames[n.op])
		b.WriteByte(' ')
		switch n.typ {
		case tString:
			b.WriteString(strconv.Quote(n.str))
		case tDuration:
			b.WriteString(fltFormatDuration(n.num))
		default:
			b.WriteString(strconv.FormatInt(n.num, 10))
		}
	}
}
