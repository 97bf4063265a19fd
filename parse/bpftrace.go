package parse

import (
	"bufio"
	"bytes"
	"regexp"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// bpftrace text output. Three shapes hold stacks:
//
//   - stacks printed by printf("%s", kstack) or ustack: one frame a line,
//     leaf first, with any indentation, ended by a blank line or by a line
//     that is not a frame (the script's other printf output, prose pasted
//     around it in a bug report). A bare count on the line after the frames
//     (the shape of bcc's stackcount and DTrace aggregations) weighs the
//     stack; otherwise each printed stack counts 1;
//   - maps printed at exit with a stack in the key, "@name[...]: value",
//     read with the participle grammar of bpftrace_grammar.go;
//   - "Lost N events" lines.
//
// Frames come in bpftrace's three stack modes: default "sym+off", perf
// "ffffffff81234567 sym+off" (with " (/path/lib.so)" for ustack) and raw
// (addresses only), plus unknown frames ("0x...", "[unknown]", "<unwind
// failure>"). A frame keeps its text as printed, minus the address and
// library columns of perf mode. A note pasted at a line's end ("# <--
// failed request") is kept as the note of that frame's node (see
// [Trace.NoteOf]), not in the sample's keys, so that it never splits
// otherwise equal stacks.

// btReader is the state of the bpftrace text scanner. The JSON reader feeds
// printf records through it too.
type btReader struct {
	b         *Builder
	task      int32 // pseudo task for stacks that name none, or -1
	frames    []btSpan
	notes     []btSpan
	arena     []byte
	stack     int // line of the current stack's first frame
	fbuf      [][]byte
	block     []btBlockLine
	blockBuf  []byte
	blockLens []int
	inBlock   bool
	inHist    bool
	aggs      map[string]string   // map name -> aggregation, from the command line
	keys      map[string][]string // map name -> key expressions, from the command line
	unknown   int                 // first line that was neither stack nor known output
	unknownT  []byte
	read      bool // a stack, a map entry or a known bpftrace line was read
}

// btSpan is a piece of btReader.arena.
type btSpan struct{ lo, hi int32 }

func newBtReader(b *Builder) *btReader {
	return &btReader{b: b, task: -1, aggs: map[string]string{}, keys: map[string][]string{}}
}

func parseBpftrace(b *Builder, r *bufio.Reader) error {
	p := newBtReader(b)
	lr := &lineReader{r: r}
	for {
		s, ok := lr.next()
		if !ok {
			break
		}
		if err := p.line(s, lr.n); err != nil {
			return err
		}
	}
	if err := lr.readError(b); err != nil {
		return err
	}
	if err := p.finish(lr.n); err != nil {
		return err
	}
	b.Finish(lr.n)
	return nil
}

// finish ends the input at line last.
func (p *btReader) finish(last int) error {
	if err := p.endBlock(); err != nil {
		return err
	}
	p.endStack(1)
	if !p.read && p.unknown > 0 {
		return stErrorf(p.b, p.unknown, "expected a bpftrace stack (frames like \"tcp_recvmsg+1\", one a line) or map entry (\"@[...]: N\"), found %s", stQuote(p.unknownT))
	}
	return nil
}

// line handles one line of output.
func (p *btReader) line(s []byte, ln int) error {
	t := stTrim(s)
	if p.inBlock {
		if btIsMapOpen(t) {
			// A new entry before this one's key was closed.
			p.addBlock(s, ln)
			return p.endBlock()
		}
		p.addBlock(s, ln)
		if btIsMapClose(t) {
			k := bytes.Index(t, []byte("]:"))
			if len(stTrim(t[k+2:])) == 0 {
				p.inBlock, p.inHist = false, true
				return nil
			}
			return p.endBlock()
		}
		return nil
	}
	if p.inHist {
		if btIsHistRow(t) {
			p.addBlock(s, ln)
			return nil
		}
		if err := p.endBlock(); err != nil {
			return err
		}
	}
	if len(t) == 0 {
		p.endStack(1)
		return nil
	}
	if t[0] == '@' {
		p.endStack(1)
		if btIsMapOpen(t) && !bytes.Contains(t, []byte("]:")) {
			p.inBlock = true
			p.block = p.block[:0]
			p.blockBuf = p.blockBuf[:0]
			p.blockLens = p.blockLens[:0]
			p.addBlock(s, ln)
		}
		// Other map output (scalars, "@x[comm]: 3", "@h:" and its
		// histogram) holds no stack.
		p.read = true
		return nil
	}
	if f, note, ok := btFrameText(s); ok {
		if len(p.frames) == 0 {
			p.stack = ln
		}
		p.frames = append(p.frames, p.keep(f))
		p.notes = append(p.notes, p.keep(note))
		return nil
	}
	if len(p.frames) > 0 && stIsDigits(t) {
		n, ok := stParseCount(t)
		if !ok {
			p.b.Warnf(ln, "stack count %s out of range: read as 0", stQuote(t))
		}
		p.endStack(n)
		return nil
	}
	p.endStack(1)
	switch {
	case len(t) > len("Lost  events") && bytes.HasPrefix(t, []byte("Lost ")) && bytes.HasSuffix(t, []byte(" events")):
		if n, ok := stParseCount(stTrim(t[5 : len(t)-7])); ok {
			p.b.LostEvents(-1, n, int32(ln))
			p.read = true
			return nil
		}
	case bytes.HasPrefix(t, []byte("Attaching ")) || bytes.HasPrefix(t, []byte("Attached ")):
		if bytes.Contains(t, []byte(" probe")) {
			p.b.Header(string(t))
			p.read = true
			return nil
		}
	}
	if bytes.IndexByte(t, '@') >= 0 && bytes.IndexByte(t, '(') > 0 {
		p.learnProgram(t)
	}
	if p.unknown == 0 {
		p.unknown = ln
		p.unknownT = append(p.unknownT[:0], t...)
	}
	return nil
}

// keep copies s into the arena.
func (p *btReader) keep(s []byte) btSpan {
	lo := len(p.arena)
	p.arena = append(p.arena, s...)
	return btSpan{int32(lo), int32(len(p.arena))}
}

func (p *btReader) addBlock(s []byte, ln int) {
	// The text slices are set once gathering is done: blockBuf may move.
	p.blockBuf = append(p.blockBuf, s...)
	p.block = append(p.block, btBlockLine{line: ln})
	p.blockLens = append(p.blockLens, len(s))
}

// pseudoTask returns the task of stacks that name none.
func (p *btReader) pseudoTask() int32 {
	if p.task < 0 {
		p.task = p.b.Task(-1, nil, -1)
	}
	return p.task
}

// endStack records the printed stack gathered so far, if any, with count.
func (p *btReader) endStack(count int64) {
	n := len(p.frames)
	if n == 0 {
		return
	}
	p.fbuf = p.fbuf[:0]
	for i := n - 1; i >= 0; i-- {
		sp := p.frames[i]
		p.fbuf = append(p.fbuf, p.arena[sp.lo:sp.hi])
	}
	p.b.Sample(p.pseudoTask(), p.fbuf, count, "", "", int32(p.stack))
	base := len(p.b.t.Nodes) - n
	for i, sp := range p.notes {
		if sp.hi > sp.lo {
			p.b.SetNote(NodeID(base+n-1-i), string(p.arena[sp.lo:sp.hi]))
		}
	}
	p.frames, p.notes, p.arena = p.frames[:0], p.notes[:0], p.arena[:0]
	p.read = true
}

// btFrameText returns the frame a line of a printed stack holds, without
// indentation, perf-mode address and library, and the note pasted after it.
func btFrameText(s []byte) (frame, note []byte, ok bool) {
	t := stTrim(s)
	if i := btNoteStart(t); i >= 0 {
		note = stTrim(t[i+1:])
		t = stTrim(t[:i])
	}
	if len(t) == 0 {
		return nil, nil, false
	}
	indented := s[0] == ' ' || s[0] == '\t'
	if f, ok := btPlainFrame(t, indented); ok {
		return f, note, true
	}
	// perf mode: "ffffffff81234567 sym+off" or "55d1 sym+off (/lib.so)".
	if sp := bytes.IndexByte(t, ' '); sp >= 3 && stIsHex(t[:sp]) {
		rest := stTrim(t[sp+1:])
		if k := bytes.LastIndex(rest, []byte(" (")); k > 0 && rest[len(rest)-1] == ')' {
			rest = stTrim(rest[:k])
		}
		if f, ok := btPlainFrame(rest, true); ok {
			return f, note, true
		}
	}
	return nil, nil, false
}

// btKeyFrameText is btFrameText for a line inside a map key, where any single
// word is a frame too (a symbol printed without offset).
func btKeyFrameText(s []byte) (frame []byte, ok bool) {
	if f, _, ok := btFrameText(s); ok {
		return f, true
	}
	t := stTrim(s)
	if i := btNoteStart(t); i >= 0 {
		t = stTrim(t[:i])
	}
	if len(t) > 0 && bytes.IndexAny(t, " \t") < 0 {
		return t, true
	}
	return nil, false
}

// btNoteStart returns the index of the "#" that starts a note pasted after a
// frame (preceded by a space or tab), or -1.
func btNoteStart(t []byte) int {
	for i := 1; i < len(t); i++ {
		if t[i] == '#' && (t[i-1] == ' ' || t[i-1] == '\t') {
			return i
		}
	}
	return -1
}

// btPlainFrame reports whether t (trimmed, no note) is a frame in bpftrace's
// default or raw mode, or an unknown frame.
func btPlainFrame(t []byte, indented bool) ([]byte, bool) {
	switch {
	case string(t) == "[unknown]" || string(t) == "<unwind failure>":
		return t, true
	case len(t) > 2 && t[0] == '0' && t[1] == 'x' && stIsHex(t[2:]):
		return t, true
	case len(t) >= 8 && stIsHex(t) && !stIsDigits(t):
		return t, true // raw mode
	}
	j := bytes.LastIndexByte(t, '+')
	if j <= 0 || j == len(t)-1 {
		return nil, false
	}
	off := t[j+1:]
	if !(stIsDigits(off) || len(off) > 2 && off[0] == '0' && off[1] == 'x' && stIsHex(off[2:])) {
		return nil, false
	}
	if bytes.IndexAny(t[:j], " \t") >= 0 && !indented {
		return nil, false
	}
	return t, true
}

// btProgramRE finds map assignments in an echoed bpftrace program
// ("# bpftrace -e 'k:f { @bytes[pid, kstack] = sum(arg2); }'").
var btProgramRE = regexp.MustCompile(`@([A-Za-z_0-9]*)(\[([^\]]*)\])?\s*=\s*([a-z]+)\(`)

// learnProgram reads the aggregation and key names of each map assigned in
// an echoed program line.
func (p *btReader) learnProgram(t []byte) {
	for _, m := range btProgramRE.FindAllSubmatch(t, -1) {
		name := string(m[1])
		switch fn := string(m[4]); fn {
		case "count":
			p.aggs[name] = ""
		case "sum", "avg", "min", "max", "stats", "hist", "lhist":
			p.aggs[name] = fn
		}
		if len(m[3]) > 0 {
			var ks []string
			for _, k := range strings.Split(string(m[3]), ",") {
				ks = append(ks, strings.TrimSpace(k))
			}
			p.keys[name] = ks
		}
	}
}

// aggOf returns the aggregation of map name: from the program when it was
// echoed, else from the name ("@avg_lat", "@bytes_sum"), else "" (a count).
func (p *btReader) aggOf(name string) string {
	if a, ok := p.aggs[name]; ok {
		return a
	}
	l := strings.ToLower(name)
	for _, a := range []string{"avg", "sum", "min", "max"} {
		if strings.Contains(l, a) {
			return a
		}
	}
	if strings.Contains(l, "mean") {
		return "avg"
	}
	return ""
}

// endBlock parses the gathered map entry, if any, and records its sample.
func (p *btReader) endBlock() error {
	if !p.inBlock && !p.inHist {
		return nil
	}
	p.inBlock, p.inHist = false, false
	off := 0
	for i := range p.block {
		n := p.blockLens[i]
		p.block[i].text = p.blockBuf[off : off+n]
		off += n
	}
	p.blockLens = p.blockLens[:0]
	open := p.block[0].line
	lx := btLexMapEntry(p.b.t.Path, p.block)
	peek, err := lexer.Upgrade(lx)
	if err != nil {
		return btMapEntryError(p.b, err, open)
	}
	e, err := btParser.ParseFromLexer(peek)
	if err != nil {
		return btMapEntryError(p.b, err, open)
	}
	p.read = true
	return p.mapSample(e, open)
}

// mapSample records the sample of a parsed map entry.
func (p *btReader) mapSample(e *btEntry, open int) error {
	b := p.b
	if len(e.Frames) == 0 {
		return nil // a map entry without a stack key
	}
	agg := p.aggOf(e.Name)
	var count int64
	switch v := strings.TrimSpace(e.Value); {
	case v == "" && len(e.Hist) > 0:
		for _, h := range e.Hist {
			n, ok := btHistCount(h.Row)
			if !ok {
				return stErrorf(b, h.Pos.Line, "expected a histogram row \"[lo, hi)  count |@@@|\", found %s", stQuote([]byte(h.Row)))
			}
			count += n
		}
		if agg == "" || agg == "count" {
			agg = "hist"
		}
	case v == "":
		return stErrorf(b, open, "expected a value after \"]:\", found none")
	case strings.HasPrefix(v, "count "):
		// stats(): "count 3, average 12, total 36".
		f := strings.Fields(strings.TrimRight(strings.TrimPrefix(v, "count "), ","))
		n, ok := int64(0), false
		if len(f) > 0 {
			n, ok = stParseCount([]byte(strings.TrimRight(f[0], ",")))
		}
		if !ok {
			return stErrorf(b, open, "expected \"count N, average N, total N\", found %s", stQuote([]byte(v)))
		}
		count, agg = n, "stats"
	default:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			b.Warnf(open, "map value %s is not a number: stack skipped", stQuote([]byte(v)))
			return nil
		}
		if n < 0 {
			b.Warnf(open, "map value %d is negative: stack skipped", n)
			return nil
		}
		count = n
	}
	p.fbuf = p.fbuf[:0]
	notes := make([]string, 0, len(e.Frames))
	for i := len(e.Frames) - 1; i >= 0; i-- {
		raw := []byte(e.Frames[i].Text)
		f, _ := btKeyFrameText(raw)
		note := ""
		if k := btNoteStart(raw); k >= 0 {
			note = string(stTrim(raw[k+1:]))
		}
		p.fbuf = append(p.fbuf, f)
		notes = append(notes, note)
	}
	task, keys := p.mapKeys(e)
	b.Sample(task, p.fbuf, count, agg, keys, int32(open))
	base := len(b.t.Nodes) - len(notes)
	for i, n := range notes {
		if n != "" {
			b.SetNote(NodeID(base+i), n)
		}
	}
	return nil
}

// mapKeys returns the task and the keys text of a map entry: "map=@name"
// and the other keys, named when the program was echoed ("pid=12
// comm=nginx"), else as printed.
func (p *btReader) mapKeys(e *btEntry) (int32, string) {
	var parts []string
	if e.Name != "" {
		parts = append(parts, "map=@"+e.Name)
	}
	names := p.keys[e.Name]
	stackAt := -1
	for i, n := range names {
		if strings.Contains(n, "stack") {
			stackAt = i
			break
		}
	}
	pid, comm := int32(-1), ""
	add := func(idx int, v string) {
		if stackAt >= 0 && len(names) == len(e.Pre)+len(e.Post)+1 && idx < len(names) {
			n := names[idx]
			switch n {
			case "pid", "tid":
				if x, err := strconv.ParseInt(v, 10, 32); err == nil && x >= 0 {
					pid = int32(x)
				}
			case "comm":
				comm = v
			}
			parts = append(parts, n+"="+v)
			return
		}
		parts = append(parts, v)
	}
	for i, k := range e.Pre {
		add(i, k)
	}
	for i, k := range e.Post {
		add(len(e.Pre)+1+i, k)
	}
	task := int32(-1)
	if pid >= 0 {
		task = p.b.Task(pid, []byte(comm), -1)
	} else {
		task = p.pseudoTask()
	}
	return task, strings.Join(parts, " ")
}

// scoreBpftrace rates head as bpftrace text output: printed frames, map
// entries with stack keys, "Attaching N probes...".
func scoreBpftrace(head []byte) int {
	if stLooksFuncgraph(head) || scorePerfScript(head) > 0 {
		return 0
	}
	score, frames, run := 0, 0, 0
	stEachLine(head, func(line []byte) {
		t := stTrim(line)
		switch {
		case len(t) == 0:
			run = 0
		case btIsMapOpen(t) && !bytes.Contains(t, []byte("]:")):
			score += 20
		case btIsMapClose(t):
			score += 10
		case bytes.HasPrefix(t, []byte("Attaching ")) && bytes.Contains(t, []byte(" probe")),
			bytes.HasPrefix(t, []byte("Attached ")) && bytes.Contains(t, []byte(" probe")):
			score += 30
		default:
			if _, _, ok := btFrameText(line); ok {
				run++
				frames++
				if run >= 2 {
					score += 2
				}
			} else {
				run = 0
			}
		}
	})
	if frames == 0 && score < 30 {
		return 0
	}
	if score > 5000 {
		score = 5000
	}
	return score
}
