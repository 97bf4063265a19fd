package parse

import (
	"bufio"
	"bytes"
	"regexp"
)

// Stack output of the bcc tools (iovisor/bcc tools/*.py), as the tools print
// it and as people paste it with prose, "# ./tool ..." command lines, "^C"
// and "[...]" elisions around. Two families:
//
// Aggregated stacks (stackcount, profile, offcputime, offwaketime): one
// stack a block of indented lines, leaf first, ended by a line holding the
// count, then a blank line. Per tool:
//
//   - stackcount: frames indented 2 ("  submit_bio"; "sym+0x1a" with -s,
//     "ffffffff817b05c1 sym" with -v), "    --" between the kernel and the
//     user stack with -d, "    comm [pid]" with -P, then "    N";
//   - profile: frames indented 4, "    --" with -d, "    -   comm (pid)",
//     then "        N" (samples);
//   - offcputime: as profile, the count being the total time off CPU in
//     microseconds; bcc before the "- comm (pid)" line printed the task
//     name alone as the last line before the count;
//   - offwaketime: "    waker:  comm [pid]", the waker's stack printed root
//     first, "    --   --" (older bcc: "    -    -"), the target's
//     (blocked) stack leaf first, "    target:  comm [pid]", then the total
//     blocked time in microseconds. "    -" alone separates kernel and user
//     frames with -d.
//
// Per-event stacks (trace -K/-U, tcpdrop): an unindented event line, then
// its frames indented (8 spaces for trace, a tab for tcpdrop), leaf first,
// then a blank line:
//
//   - trace: "[TIME] [CPU] PID TID COMM FUNC MSG" (bcc before TID was
//     added: "PID COMM FUNC MSG"), frames "sym+0x1 [module]", with -a
//     preceded by the address; "-->COUNT N" after a stack with -A;
//   - tcpdrop: "TIME PID IP SADDR:SPORT > DADDR:DPORT STATE (FLAGS)
//     [REASON (CODE)]", frames "\ttcp_drop+0x1".
//
// How each becomes a [Builder.Sample]:
//
//   - frames keep their text as printed, minus a leading address and a
//     trailing " [module]" of trace; Python 3 bytes reprs ("b'tcp_drop+0x1'",
//     printed by versions that did not decode symbols) are unwrapped;
//     delimiters between kernel and user frames are dropped, as the kernel
//     stack continues the user one;
//   - comm and pid ("comm [pid]", "- comm (pid)", "target:", the trace
//     event line) name the sample's task; a comm without pid (old
//     offcputime and offwaketime) names a task of its own, pid unknown;
//     stackcount without -P names none;
//   - the count is the printed value: stacks for stackcount and profile
//     (Agg ""), microseconds for offcputime and offwaketime (Agg
//     "sum(us)", known from the tool's banner or command line), 1 per
//     event for trace and tcpdrop (N with trace -A);
//   - offwaketime: the sample is the target's stack, which is a call path
//     the diff can align; the waker's comm and stack (root first, ";"
//     joined) go to the keys ("waker=swapper/0 waker_stack=a;b;c"), so that
//     the wakeup is shown but does not pose as calls of the target;
//   - folded lines that the tools print with -f ("comm;root;...;leaf N")
//     inside such a file are read as [parseFolded] reads them;
//   - a stack with no frames (a -K/-U side that was empty, frames elided
//     in a paste) or no count (a paste cut short) is skipped with a
//     warning; "Lost N samples" lines are lost events.
//
// Prose, usage text and event lines without a stack are skipped: a block
// of indented lines is a stack only when its last line is a count.

// bccTool names the tool whose output is being read, from its banner or
// command line; "" when not known.
type bccTool uint8

const (
	bccUnknown bccTool = iota
	bccStackcount
	bccProfile
	bccOffcputime
	bccOffwaketime
	bccTrace
	bccTcpdrop
)

var bccToolNames = map[string]bccTool{
	"stackcount": bccStackcount, "profile": bccProfile, "offcputime": bccOffcputime,
	"offwaketime": bccOffwaketime, "trace": bccTrace, "tcpdrop": bccTcpdrop,
}

var (
	// A shell line running a tool: "# ./stackcount.py -P submit_bio",
	// "# sudo /usr/share/bcc/tools/trace ...", "./stackcount -v tcp_sendmsg",
	// "# profile-bpfcc -F 99".
	bccCommandRE = regexp.MustCompile(`^(?:#\s*(?:sudo\s+)?(?:\S*/)?|(?:sudo\s+)?\S*/)(stackcount|profile|offcputime|offwaketime|trace|tcpdrop)(?:\.py)?(?:-bpfcc)?(?:\s|$)`)
	bccBanners   = []struct {
		re   *regexp.Regexp
		tool bccTool
	}{
		{regexp.MustCompile(`^Tracing \d+ functions? for "`), bccStackcount},
		{regexp.MustCompile(`^Sampling at \S+ \S+ of .* by .*stack`), bccProfile},
		{regexp.MustCompile(`^Tracing off-CPU time \(us\) of`), bccOffcputime},
		{regexp.MustCompile(`^Tracing blocked time \(us\) by`), bccOffwaketime},
	}
	// trace's column header: "[TIME] [CPU] PID [TID] COMM FUNC [-]".
	bccTraceHeaderRE = regexp.MustCompile(`^(?:TIME\s+)?(?:CPU\s+)?PID\s+(?:TID\s+)?COMM\s+FUNC(?:\s+-)?$`)
	// tcpdrop's column header.
	bccTcpdropHeaderRE = regexp.MustCompile(`^TIME\s+PID\s+IP\s+SADDR:SPORT\s+>\s+DADDR:DPORT\s+STATE`)
	// "- comm (pid)" of profile and offcputime.
	bccDashCommRE = regexp.MustCompile(`^-\s+(.*\S)\s+\((\d+)\)$`)
	// "comm [pid]" of stackcount -P.
	bccBracketCommRE = regexp.MustCompile(`^(.*\S)\s+\[(\d+)\]$`)
	bccWakerRE       = regexp.MustCompile(`^(waker|target):\s+(.*)$`)
	bccLostRE        = regexp.MustCompile(`^Lost (\d+) (?:samples|events)$`)
	bccAggCountRE    = regexp.MustCompile(`^-->COUNT (\d+)$`)
)

// bccLine is a line of a block, its text in the reader's arena.
type bccLine struct {
	lo, hi int32
	indent int32
	line   int32
}

// bccEvent is a trace or tcpdrop event line waiting for its frames.
type bccEvent struct {
	pid   int32
	comm  []byte
	keys  string
	line  int
	count int64
}

// bccReader is the state of the bcc reader.
type bccReader struct {
	b       *Builder
	tool    bccTool
	arena   []byte
	block   []bccLine
	ev      *bccEvent
	evLines []bccLine
	comms   map[string]int32 // tasks named by a comm alone
	anon    int32            // the task of stacks that name none, or -1
	fbuf    [][]byte
	first   int // first non-blank line, for the error when nothing is read
	firstT  []byte
}

func parseBCC(b *Builder, r *bufio.Reader) error {
	p := &bccReader{b: b, anon: -1, comms: map[string]int32{}}
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
	if err := p.flush(); err != nil {
		return err
	}
	if len(b.t.Samples) == 0 && p.first > 0 {
		return stErrorf(b, p.first, "expected bcc tool output (indented stack frames ending with a count line, or a trace/tcpdrop event line followed by its frames), found %s", stQuote(p.firstT))
	}
	b.Finish(lr.n)
	return nil
}

// line handles one line of input.
func (p *bccReader) line(s []byte, ln int) error {
	t := stTrim(s)
	if len(t) > 0 && p.first == 0 {
		p.first, p.firstT = ln, append([]byte(nil), t...)
	}
	if bytes.HasPrefix(t, []byte("^C")) {
		// Ctrl-C echoed by the terminal, at the start of the tool's
		// output ("^Csnmp-pass;..." in a folded paste).
		if err := p.flush(); err != nil {
			return err
		}
		t = stTrim(t[2:])
		s = t
	}
	if len(t) == 0 {
		return p.flush()
	}
	if s[0] == ' ' || s[0] == '\t' {
		p.addLine(s, t, ln)
		return nil
	}
	if m := bccAggCountRE.FindSubmatch(t); m != nil && p.ev != nil && len(p.evLines) > 0 {
		n, ok := stParseCount(m[1])
		if !ok {
			return stErrorf(p.b, ln, "expected a count after \"-->COUNT\", found %s", stQuote(m[1]))
		}
		p.ev.count = n
		return p.flush()
	}
	if err := p.flush(); err != nil {
		return err
	}
	p.unindented(t, ln)
	return nil
}

// addLine adds an indented line to the pending event or block.
func (p *bccReader) addLine(s, t []byte, ln int) {
	indent := int32(len(s) - len(bytes.TrimLeft(s, " \t")))
	lo := int32(len(p.arena))
	p.arena = append(p.arena, t...)
	l := bccLine{lo: lo, hi: int32(len(p.arena)), indent: indent, line: int32(ln)}
	if p.ev != nil {
		p.evLines = append(p.evLines, l)
		return
	}
	p.block = append(p.block, l)
}

// unindented handles an unindented, non-blank line: a command line, a
// banner, a column header, an event, a folded stack, or prose.
func (p *bccReader) unindented(t []byte, ln int) {
	if m := bccCommandRE.FindSubmatch(t); m != nil {
		p.tool = bccToolNames[string(m[1])]
		return
	}
	for _, bn := range bccBanners {
		if bn.re.Match(t) {
			p.tool = bn.tool
			return
		}
	}
	switch {
	case bccTraceHeaderRE.Match(t):
		p.tool = bccTrace
		return
	case bccTcpdropHeaderRE.Match(t):
		p.tool = bccTcpdrop
		return
	}
	if m := bccLostRE.FindSubmatch(t); m != nil {
		n, ok := stParseCount(m[1])
		if !ok {
			n = -1
		}
		p.b.LostEvents(-1, n, int32(ln))
		return
	}
	if ev, ok := p.tcpdropEvent(t, ln); ok {
		p.ev = ev
		return
	}
	if p.tool == bccTrace || p.tool == bccUnknown {
		if ev, ok := p.traceEvent(t, ln); ok {
			p.ev = ev
			return
		}
	}
	if bytes.HasPrefix(t, []byte("WARNING: ")) && bytes.Contains(t, []byte("stack traces")) {
		p.b.Warnf(ln, "the tool said: %s", t)
		return
	}
	p.folded(t, ln)
}

// folded reads a folded stack line printed by a tool's -f option, as
// parseFolded does. A line is one when it ends with a count after a space
// and holds ";"-joined frames, the first (the comm) without spaces unless
// the line has three ";" or more: prose seldom does.
func (p *bccReader) folded(t []byte, ln int) {
	stack, count, ok := foldedLine(t)
	if !ok {
		return
	}
	semi := bytes.IndexByte(stack, ';')
	if semi <= 0 || bytes.IndexByte(stack[:semi], ' ') >= 0 && bytes.Count(stack, []byte(";")) < 3 {
		return
	}
	p.fbuf = p.fbuf[:0]
	for len(stack) > 0 {
		var f []byte
		if i := bytes.IndexByte(stack, ';'); i >= 0 {
			f, stack = stack[:i], stack[i+1:]
		} else {
			f, stack = stack, nil
		}
		if len(f) > 0 {
			p.fbuf = append(p.fbuf, f)
		}
	}
	p.b.Sample(p.anonTask(), p.fbuf, count, "", "", int32(ln))
}

// flush ends the pending event or block.
func (p *bccReader) flush() error {
	if p.ev != nil {
		p.flushEvent()
	}
	if len(p.block) > 0 {
		err := p.flushBlock()
		p.block = p.block[:0]
		p.arena = p.arena[:0]
		return err
	}
	p.arena = p.arena[:0]
	return nil
}

// text returns the text of l.
func (p *bccReader) text(l bccLine) []byte { return p.arena[l.lo:l.hi] }

// flushEvent makes a sample of the pending event and its frames.
func (p *bccReader) flushEvent() {
	ev := p.ev
	p.ev = nil
	lines := p.evLines
	p.evLines = p.evLines[:0]
	p.fbuf = p.fbuf[:0]
	for _, l := range lines {
		t := p.text(l)
		if len(t) > 1 && t[0] == '-' && stIsDigits(t[1:]) {
			// trace prints a failed stack walk as its error number.
			p.b.Warnf(int(l.line), "stack not captured (error %s)", t)
			continue
		}
		if f := bccTraceFrame(t); len(f) > 0 {
			p.fbuf = append(p.fbuf, f)
		}
	}
	if len(lines) == 0 {
		return // an event without a stack
	}
	if len(p.fbuf) == 0 {
		p.b.Warnf(ev.line, "event without frames: skipped")
		return
	}
	stReverse(p.fbuf)
	// The task is made here, so that events without a stack make none.
	p.b.Sample(p.b.Task(ev.pid, ev.comm, -1), p.fbuf, ev.count, "", ev.keys, int32(ev.line))
}

// flushBlock reads a block of indented lines as an aggregated stack: a
// stack when its last line is a count, prose otherwise.
func (p *bccReader) flushBlock() error {
	blk := p.block
	last := blk[len(blk)-1]
	lt := p.text(last)
	if !stIsDigits(lt) {
		for _, l := range blk {
			t := p.text(l)
			if bccDashCommRE.Match(t) || bytes.HasPrefix(t, []byte("target:")) {
				p.b.Warnf(int(l.line), "stack without its count line (the paste is cut here?): skipped")
				break
			}
		}
		return nil
	}
	count, ok := stParseCount(lt)
	if !ok {
		return stErrorf(p.b, int(last.line), "expected a count below 10^18, found %s", stQuote(lt))
	}
	blk = blk[:len(blk)-1]
	minIndent := int32(1 << 30)
	for _, l := range blk {
		minIndent = min(minIndent, l.indent)
	}
	var (
		comm, pid []byte
		waker     []byte
		haveComm  bool
		haveWaker bool
		sep       = -1 // index in frames of the waker/target separator
		frames    = p.fbuf[:0]
	)
	for _, l := range blk {
		t := p.text(l)
		switch {
		case bytes.Equal(t, []byte("--")) || bytes.Equal(t, []byte("-")):
			// Delimiter between kernel and user frames.
			continue
		case bccIsPair(t, "--") || bccIsPair(t, "-"):
			sep = len(frames)
			continue
		}
		if m := bccDashCommRE.FindSubmatch(t); m != nil {
			comm, pid, haveComm = bccUnwrap(m[1]), m[2], true
			continue
		}
		if m := bccWakerRE.FindSubmatch(t); m != nil {
			c, n := bccCommPID(m[2])
			if string(m[1]) == "waker" {
				waker, haveWaker = c, true
			} else {
				comm, pid, haveComm = c, n, true
			}
			continue
		}
		if m := bccBracketCommRE.FindSubmatch(t); m != nil && (l.indent > minIndent || p.tool == bccStackcount) && bytes.IndexByte(m[1], '[') < 0 {
			comm, pid, haveComm = bccUnwrap(m[1]), m[2], true
			continue
		}
		if f := bccFrame(t); len(f) > 0 {
			frames = append(frames, f)
		}
	}
	if !haveComm && p.tool == bccOffcputime && len(frames) > 0 {
		// Older offcputime: the task name is the last line.
		comm, haveComm = frames[len(frames)-1], true
		frames = frames[:len(frames)-1]
	}
	agg, keys := "", ""
	if p.tool == bccOffcputime || p.tool == bccOffwaketime {
		agg = "sum(us)"
	}
	if sep >= 0 || haveWaker {
		// offwaketime: the waker's frames (root first) above the
		// separator, the target's (leaf first) below.
		if sep < 0 {
			sep = 0
		}
		wakerStack := frames[:sep]
		frames = frames[sep:]
		keys = "waker=" + string(waker)
		if len(wakerStack) > 0 {
			keys += " waker_stack=" + string(bytes.Join(wakerStack, []byte(";")))
		}
		if p.tool == bccUnknown {
			agg = "sum(us)"
		}
	}
	line := int(blk0Line(p.block))
	if len(frames) == 0 {
		p.fbuf = frames
		p.b.Warnf(line, "stack with no frames (count %d): skipped", count)
		return nil
	}
	task := p.anonTask()
	if haveComm {
		task = p.commTask(comm, pid)
		if len(pid) == 0 {
			keys = bccJoinKeys("comm="+string(comm), keys)
		}
	}
	stReverse(frames)
	p.b.Sample(task, frames, count, agg, keys, int32(line))
	p.fbuf = frames
	return nil
}

// blk0Line returns the line of a block's first line.
func blk0Line(blk []bccLine) int32 { return blk[0].line }

// bccJoinKeys joins two key strings with a space.
func bccJoinKeys(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}

// bccIsPair reports whether t is two fields, both f ("--   --").
func bccIsPair(t []byte, f string) bool {
	i := bytes.IndexAny(t, " \t")
	return i > 0 && string(t[:i]) == f && string(stTrim(t[i:])) == f
}

// bccCommPID splits offwaketime's "comm pid" (pid absent in older bcc):
// the pid is the last field when it is a number.
func bccCommPID(s []byte) (comm, pid []byte) {
	s = stTrim(s)
	if i := bytes.LastIndexAny(s, " \t"); i > 0 && stIsDigits(s[i+1:]) {
		return bccUnwrap(stTrim(s[:i])), s[i+1:]
	}
	return bccUnwrap(s), nil
}

// commTask returns the task of comm and pid (pid empty: unknown).
func (p *bccReader) commTask(comm, pid []byte) int32 {
	if n, ok := stParseCount(pid); ok && n <= 1<<31-1 {
		return p.b.Task(int32(n), comm, -1)
	}
	if id, ok := p.comms[string(comm)]; ok {
		return id
	}
	id := p.b.newTask(Task{PID: -1, Comm: string(comm), CPU: -1, First: None})
	p.comms[string(comm)] = id
	return id
}

// anonTask returns the task of stacks that name none.
func (p *bccReader) anonTask() int32 {
	if p.anon < 0 {
		p.anon = p.b.Task(-1, nil, -1)
	}
	return p.anon
}

// bccUnwrap returns s without the b'...' (or b"...") of a Python 3 bytes
// repr.
func bccUnwrap(s []byte) []byte {
	if len(s) >= 3 && s[0] == 'b' && (s[1] == '\'' || s[1] == '"') && s[len(s)-1] == s[1] {
		return s[2 : len(s)-1]
	}
	return s
}

// bccFrame returns the symbol of a frame line of an aggregated stack: the
// text, unwrapped, without the address stackcount -v and older
// offwaketime print before it.
func bccFrame(t []byte) []byte {
	t = bccUnwrap(t)
	if sp := bytes.IndexAny(t, " \t"); sp >= 6 && stIsHex(t[:sp]) {
		if rest := stTrim(t[sp:]); len(rest) > 0 {
			t = bccUnwrap(rest)
		}
	}
	return t
}

// bccTraceFrame returns the symbol of a trace or tcpdrop frame line:
// "ffffffff81234567 sym+0x1 [module]" gives "sym+0x1".
func bccTraceFrame(t []byte) []byte {
	t = bccFrame(t)
	if n := len(t); n > 0 && t[n-1] == ']' {
		if k := bytes.LastIndex(t, []byte(" [")); k > 0 {
			if sym := stTrim(t[:k]); len(sym) > 0 {
				t = sym
			}
		}
	}
	return t
}

// tcpdropEvent parses a tcpdrop event line "14:46:49 0 4 10.0.0.1:80 >
// 10.0.0.2:33280 SYN_SENT (SYN|ACK) [NETFILTER_DROP (12)]".
func (p *bccReader) tcpdropEvent(t []byte, ln int) (*bccEvent, bool) {
	f := bytes.Fields(t)
	if len(f) < 7 || !bccIsClock(f[0]) || !stIsDigits(f[1]) || (string(f[2]) != "4" && string(f[2]) != "6") ||
		string(f[4]) != ">" || bytes.IndexByte(f[3], ':') < 0 || bytes.IndexByte(f[5], ':') < 0 {
		return nil, false
	}
	pid, ok := stParseCount(f[1])
	if !ok || pid > 1<<31-1 {
		return nil, false
	}
	keys := "pid=" + string(f[1]) + " state=" + string(f[6])
	if len(f) > 7 {
		keys += " flags=" + string(bytes.Trim(f[7], "()"))
	}
	if len(f) > 8 {
		keys += " reason=" + string(f[8])
	}
	return &bccEvent{pid: int32(pid), keys: keys, line: ln, count: 1}, true
}

// traceEvent parses a trace event line "[TIME] [CPU] PID TID COMM FUNC
// MSG" (older bcc: "PID COMM FUNC MSG"). The comm, padded to its column,
// may hold a space ("CPU 0/KVM"): it ends at the first run of two spaces,
// or else at the first space.
func (p *bccReader) traceEvent(t []byte, ln int) (*bccEvent, bool) {
	f := bytes.Fields(t)
	i := 0
	if len(f) > 0 && (bccIsClock(f[0]) || bccIsSeconds(f[0])) {
		i++
	}
	nums := 0
	for i+nums < len(f) && stIsDigits(f[i+nums]) {
		nums++
	}
	switch {
	case nums >= 3: // CPU PID TID
		i++
		nums = 2
	case nums == 1 && p.tool != bccTrace:
		return nil, false // too weak a sign without the tool's header
	case nums == 0:
		return nil, false
	}
	if i+nums+2 > len(f) {
		return nil, false
	}
	tgid, ok := stParseCount(f[i])
	if !ok || tgid > 1<<31-1 {
		return nil, false
	}
	tid := f[i]
	if nums == 2 {
		tid = f[i+1]
	}
	rest := t[stFieldStart(t, i+nums):]
	var comm, fn []byte
	if k := bytes.Index(rest, []byte("  ")); k > 0 {
		comm = rest[:k]
		if ff := bytes.Fields(rest[k:]); len(ff) > 0 {
			fn = ff[0]
		}
	} else if ff := bytes.Fields(rest); len(ff) >= 2 {
		comm, fn = ff[0], ff[1]
	}
	if len(fn) == 0 {
		return nil, false
	}
	keys := "comm=" + string(comm) + " pid=" + string(f[i]) + " tid=" + string(tid) + " func=" + string(fn)
	return &bccEvent{pid: int32(tgid), comm: append([]byte(nil), comm...), keys: keys, line: ln, count: 1}, true
}

// bccIsClock reports whether f is a wall-clock time "14:46:49".
func bccIsClock(f []byte) bool {
	return len(f) == 8 && f[2] == ':' && f[5] == ':' && stIsDigits(f[:2]) && stIsDigits(f[3:5]) && stIsDigits(f[6:])
}

// bccIsSeconds reports whether f is a time offset "1.234567".
func bccIsSeconds(f []byte) bool {
	d := bytes.IndexByte(f, '.')
	return d > 0 && stIsDigits(f[:d]) && stIsDigits(f[d+1:])
}

// scoreBCC rates head as bcc tool output. It needs a sign only bcc gives:
// a tool's command line or banner, trace's or tcpdrop's column header, a
// "- comm (pid)", "comm [pid]" (before a count), "waker:" or "target:"
// line, or a Python bytes frame; frames then add to the score. Without
// such a sign it is 0, so bpftrace, DTrace and perf output, which share the
// shape of indented frames and counts, are left to their readers.
func scoreBCC(head []byte) int {
	if stLooksFuncgraph(head) {
		return 0
	}
	signs, frames := 0, 0
	prevBracket := false
	stEachLine(head, func(line []byte) {
		t := stTrim(line)
		bracket := false
		defer func() { prevBracket = bracket }()
		if len(t) == 0 {
			return
		}
		if line[0] != ' ' && line[0] != '\t' {
			if bytes.HasPrefix(t, []byte("^C")) {
				t = stTrim(t[2:])
			}
			if bccCommandRE.Match(t) || bccTraceHeaderRE.Match(t) || bccTcpdropHeaderRE.Match(t) {
				signs += 100
				return
			}
			for _, bn := range bccBanners {
				if bn.re.Match(t) {
					signs += 100
					return
				}
			}
			return
		}
		switch {
		case bccDashCommRE.Match(t), bccWakerRE.Match(t):
			signs += 20
		case bccBracketCommRE.Match(t):
			bracket = true
		case stIsDigits(t):
			if prevBracket {
				signs += 20
			}
		case len(t) > 3 && t[0] == 'b' && t[1] == '\'' && t[len(t)-1] == '\'':
			signs += 5
			frames++
		default:
			frames++
		}
	})
	if signs == 0 {
		return 0
	}
	return min(signs+2*frames, 5000)
}
