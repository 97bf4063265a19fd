package parse

import (
	"bufio"
	"bytes"
)

// trace-cmd report output of the function_graph tracer:
//
//	cpus=2
//	  reqlab-srv-158   [001]    23.086423: funcgraph_entry:                   |  __sys_recvfrom() {
//	  reqlab-srv-158   [001]    23.088825: funcgraph_entry:      + 96.060 us  |            irq_enter_rcu();
//	  reqlab-srv-158   [001]    23.089335: funcgraph_exit:       + 20.398 us  |                            }
//	          <idle>-0 [000] 157412.933974: irq_handler_entry:    irq=48 name=eth0
//
// and the raw-field layout trace-cmd prints when it lacks the plugin (or
// with -R), with explicit depths:
//
//	trace-cmd-11810 [007] 11658.899116: funcgraph_entry:       func=0xffffffffbaac16a0 depth=1
//	trace-cmd-11810 [007] 11658.899117: funcgraph_exit:        func=0xffffffffbaac16a0 calltime=0xa9a8c8a5227 rettime=0xa9a8c8a5299 overrun=0x0 depth=1
//
// Tasks are keyed by pid, except pid 0 (the idle task), which is one task
// per CPU. Other events are kept on the task's timeline as event nodes.

// tcLine is one event line of trace-cmd report, cut into fields that are
// slices of the line.
type tcLine struct {
	comm  []byte
	pid   int32
	cpu   int16
	flags []byte // the latency column of report -l, or nil
	ts    int64  // ns
	event []byte
	body  []byte
}

// cutTraceCmd cuts "comm-pid [cpu] (flags) ts: event: body"; it reports
// false when s does not have that shape.
func cutTraceCmd(s []byte, l *tcLine) bool {
	s = trimLeft(s)
	// The CPU is the first " [digits]": comm may hold spaces and dashes.
	lb, rb := -1, -1
	for i := 1; i < len(s); {
		j := bytes.IndexByte(s[i:], '[')
		if j < 0 {
			return false
		}
		i += j
		k := i + 1
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if isSpace(s[i-1]) && k > i+1 && k < len(s) && s[k] == ']' {
			lb, rb = i, k
			break
		}
		i++
	}
	if lb < 0 {
		return false
	}
	comm, pid, ok := splitCommPID(trimRight(s[:lb]))
	if !ok {
		return false
	}
	cpu, ok := atoi(s[lb+1 : rb])
	if !ok || cpu > 1<<14 {
		return false
	}
	rest := trimLeft(s[rb+1:])
	tok, rest := cutField(rest)
	var flags []byte
	if len(tok) == 0 {
		return false
	}
	if tok[len(tok)-1] != ':' {
		flags = tok
		tok, rest = cutField(trimLeft(rest))
		if len(tok) == 0 || tok[len(tok)-1] != ':' {
			return false
		}
	}
	ts, ok := parseFixed(tok[:len(tok)-1], 9)
	if !ok {
		return false
	}
	rest = trimLeft(rest)
	i := 0
	for i < len(rest) && rest[i] != ':' && !isSpace(rest[i]) {
		i++
	}
	if i == 0 || i == len(rest) || rest[i] != ':' {
		return false
	}
	*l = tcLine{comm: comm, pid: pid, cpu: int16(cpu), flags: flags, ts: ts, event: rest[:i], body: trimLeft(rest[i+1:])}
	return true
}

// cutField returns the text up to the first space and what follows it.
func cutField(s []byte) (field, rest []byte) {
	for i, c := range s {
		if isSpace(c) {
			return s[:i], s[i:]
		}
	}
	return s, nil
}

func isFuncgraphEvent(ev []byte) bool {
	return string(ev) == "funcgraph_entry" || string(ev) == "funcgraph_exit"
}

// scoreTraceCmd counts the function_graph event lines of head.
func scoreTraceCmd(head []byte) int {
	var l tcLine
	return scoreLines(head, func(line []byte) int {
		if cutTraceCmd(line, &l) && isFuncgraphEvent(l.event) {
			return 1
		}
		return 0
	})
}

// tcParser holds the state of one trace-cmd report being read.
type tcParser struct {
	b     *Builder
	last  [64]struct{ pid, task int32 } // per CPU: the task of the last line
	stack stackNote
}

// task returns the task of a line, remembering the last one per CPU so that
// runs of lines of one task skip the lookup.
//
// A report of several inputs (trace-cmd report -i a.dat -i b.dat) starts
// each line with "file: "; such tasks are kept apart per input.
func (p *tcParser) task(comm []byte, pid int32, cpu int16) int32 {
	if i := bytes.Index(comm, []byte(": ")); i > 0 {
		return p.b.TaskIn(trimLeft(comm[:i]), pid, trimLeft(comm[i+2:]), cpu)
	}
	if pid == 0 {
		return p.b.TaskOnCPU(0, comm, cpu)
	}
	if int(cpu) < len(p.last) {
		c := &p.last[cpu]
		if c.pid == pid && c.task >= 0 {
			return c.task
		}
		c.pid, c.task = pid, p.b.Task(pid, comm, cpu)
		return c.task
	}
	return p.b.Task(pid, comm, cpu)
}

// parseTraceCmd reads trace-cmd report output.
func parseTraceCmd(b *Builder, r *bufio.Reader) error {
	return readTraceCmd(b, r, true)
}

// readTraceCmd reads trace-cmd report output, trying fastGraph on each
// line first when fast is set (tests compare the two ways).
func readTraceCmd(b *Builder, r *bufio.Reader, fast bool) error {
	p := &tcParser{b: b, stack: stackNote{id: None}}
	for i := range p.last {
		p.last[i].pid, p.last[i].task = -1, -1
	}
	lr := &lineReader{r: r}
	var l tcLine
	for {
		line, ok := lr.next()
		if !ok {
			break
		}
		n := lr.n
		if lr.cut {
			b.Warnf(n, "line longer than %d bytes cut", maxLine)
		}
		s := trimLeft(line)
		if len(s) == 0 {
			continue
		}
		if len(s) > 1 && s[0] == '=' && s[1] == '>' {
			if !p.stack.frame(trimRight(s)) {
				b.Warnf(n, "expected a \"<stack trace>\" event before the frame, found %q", clip(s))
			}
			continue
		}
		p.stack.flush(b)
		if fast && p.fastGraph(s, n) {
			continue
		}
		if !cutTraceCmd(s, &l) {
			p.other(trimRight(s), n)
			continue
		}
		task := p.task(l.comm, l.pid, l.cpu)
		if isFuncgraphEvent(l.event) {
			p.graph(task, &l, n)
			continue
		}
		body := trimRight(l.body)
		if string(body) == "<stack trace>" {
			id := b.Event(task, l.event, "", l.ts, l.cpu, int32(n))
			p.stack.start(id)
			continue
		}
		b.Event(task, l.event, string(body), l.ts, l.cpu, int32(n))
	}
	p.stack.flush(b)
	b.Finish(lr.n)
	return lr.readError(b)
}

// Prefixes of the two function_graph events, as fastGraph expects them.
const (
	entryEvent = "funcgraph_entry:"
	exitEvent  = "funcgraph_exit:"
)

// fastGraph reads the common function_graph line, s with its leading
// spaces trimmed,
//
//	comm-pid [cpu] ts: funcgraph_entry|funcgraph_exit: [[+] N.N us] |  func() {|func();|}
//
// in one pass, and reports whether it did. It reads exactly what
// cutTraceCmd, graph and parseFn read from such a line, and leaves any
// other line (other events, the latency column, arguments, return values,
// comments, anything to warn about) to them, so the two ways agree
// (TestFastGraphAgrees and FuzzTraceCmd check it).
func (p *tcParser) fastGraph(s []byte, n int) bool {
	// cutTraceCmd: the CPU is the first "[" preceded by a space, and
	// atoi reads at most 9 digits.
	lb := bytes.IndexByte(s, '[')
	if lb < 1 || !isSpace(s[lb-1]) {
		return false
	}
	rb, cpu := lb+1, 0
	for rb < len(s) && isDigit(s[rb]) && rb-lb <= 9 {
		cpu = cpu*10 + int(s[rb]-'0')
		rb++
	}
	if rb == lb+1 || rb >= len(s) || s[rb] != ']' || cpu > 1<<14 {
		return false
	}
	// comm-pid, split at the dash before the trailing digits.
	e := lb - 1
	for e > 0 && isSpace(s[e-1]) {
		e--
	}
	d, pid, mul := e, int32(0), int32(1)
	for d > 0 && isDigit(s[d-1]) && e-d < 9 {
		d--
		pid += int32(s[d]-'0') * mul
		mul *= 10
	}
	if d == e || d == 0 || s[d-1] != '-' {
		return false
	}
	comm := s[:d-1]
	// "ts: " with no latency column, read as parseFixed(ts, 9) does.
	// Positions are indices into s from here on.
	i := skipBlank(s, rb+1)
	var ts int64
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		ts = ts*10 + int64(s[i]-'0')
		i++
		digits++
	}
	if digits == 0 || digits > 10 {
		return false
	}
	frac := 0
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && isDigit(s[i]); i++ {
			if frac < 9 {
				ts = ts*10 + int64(s[i]-'0')
				frac++
			}
		}
	}
	if i+1 >= len(s) || s[i] != ':' || !isSpace(s[i+1]) {
		return false
	}
	for ; frac < 9; frac++ {
		ts *= 10
	}
	i = skipBlank(s, i+1)
	var entry bool
	switch {
	case len(s)-i >= len(entryEvent) && string(s[i:i+len(entryEvent)]) == entryEvent:
		entry, i = true, i+len(entryEvent)
	case len(s)-i >= len(exitEvent) && string(s[i:i+len(exitEvent)]) == exitEvent:
		i += len(exitEvent)
	default:
		return false
	}
	// graph: the body s[i:end], "|" alone or a duration "[mark ]N[.N] us"
	// and "|", read as parseDuration does (with a space before "us").
	// Only blanks follow end, so scans bounded by len(s) find what scans
	// bounded by end would.
	end := len(s)
	if isSpace(s[end-1]) {
		end = len(trimRight(s))
	}
	if i = skipRun(s, i); i >= end {
		return false
	}
	dur := int64(-1)
	if s[i] != '|' {
		if isOverheadMark(s[i]) {
			if i+1 >= end || !isSpace(s[i+1]) {
				return false
			}
			i = skipBlank(s, i+1)
		}
		k := i
		dur = 0
		for i < len(s) && isDigit(s[i]) {
			dur = dur*10 + int64(s[i]-'0')
			i++
		}
		if i == k || i-k > 10 {
			return false
		}
		frac := 0
		if i < len(s) && s[i] == '.' {
			for i++; i < len(s) && isDigit(s[i]); i++ {
				if frac < 3 {
					dur = dur*10 + int64(s[i]-'0')
					frac++
				}
			}
		}
		for ; frac < 3; frac++ {
			dur *= 10
		}
		if i >= len(s) || !isSpace(s[i]) {
			return false
		}
		i = skipBlank(s, i)
		if i+2 > len(s) || s[i] != 'u' || s[i+1] != 's' {
			return false
		}
		i = skipBlank(s, i+2)
		if i >= len(s) || s[i] != '|' {
			return false
		}
	}
	// parseFn: "}", "func();" or "func() {" and nothing more.
	f := skipRun(s, i+1)
	if f >= end {
		return false
	}
	fn := s[f:end]
	kind := fnExit
	var name []byte
	if fn[0] == '}' {
		if len(fn) != 1 || entry {
			return false
		}
	} else {
		if !entry || fn[0] == '/' {
			return false
		}
		open := bytes.IndexByte(fn, '(')
		if open <= 0 {
			return false
		}
		switch string(fn[open:]) {
		case "();":
			kind = fnLeaf
		case "() {":
			kind = fnEnter
		default:
			return false
		}
		name = fn[:open]
		if isSpace(name[len(name)-1]) {
			name = trimRight(name)
		}
	}
	task := p.task(comm, pid, int16(cpu))
	switch kind {
	case fnEnter:
		p.b.Enter(task, name, ts, int16(cpu), int32(n))
	case fnLeaf:
		p.b.Leaf(task, name, ts, dur, int16(cpu), int32(n))
	default:
		p.b.Exit(task, nil, ts, dur, int16(cpu), int32(n))
	}
	return true
}

// other reads a line that is not an event: the preamble, lost events.
func (p *tcParser) other(s []byte, n int) {
	b := p.b
	switch {
	case bytes.HasPrefix(s, []byte("cpus=")), bytes.HasPrefix(s, []byte("version")):
		b.Header(string(s))
	case bytes.HasPrefix(s, []byte("CPU:")), bytes.HasPrefix(s, []byte("[LOST")):
		if cpu, count, ok := lostEvents(s); ok {
			b.LostEvents(cpu, count, int32(n))
			return
		}
		warnBad(b, n, "lost events (\"CPU:N [N EVENTS DROPPED]\")", s)
	case bytes.Contains(s, []byte("funcgraph_e")):
		warnBad(b, n, "\"comm-pid [cpu] timestamp: funcgraph_entry: ...\"", s)
	}
}

// graph reads the body of a funcgraph_entry or funcgraph_exit event.
func (p *tcParser) graph(task int32, l *tcLine, n int) {
	b := p.b
	body := trimRight(l.body)
	entry := string(l.event) == "funcgraph_entry"
	if bytes.HasPrefix(body, []byte("func=")) {
		p.rawFields(task, l, body, entry, n)
		return
	}
	bar := bytes.IndexByte(body, '|')
	if bar < 0 {
		warnBad(b, n, "\"duration |  function\"", body)
		return
	}
	dur := int64(-1)
	if cell := trim(body[:bar]); len(cell) > 0 {
		d, ok := parseDuration(cell)
		if !ok {
			warnBad(b, n, "a duration (\"2.441 us\")", cell)
			return
		}
		dur = d
	}
	fp, expected := parseFn(trimLeft(body[bar+1:]))
	if expected != "" {
		warnBad(b, n, expected, trimLeft(body[bar+1:]))
		return
	}
	if entry && fp.kind == fnExit || !entry && (fp.kind == fnEnter || fp.kind == fnLeaf) {
		warnBad(b, n, "a call on funcgraph_entry and \"}\" on funcgraph_exit", body)
		return
	}
	addFn(b, &p.stack, task, &fp, l.ts, dur, l.cpu, n, l.flags)
}

// rawFields reads "func=0x... depth=N" and "func=0x... calltime=0x...
// rettime=0x... overrun=0x0 depth=N".
func (p *tcParser) rawFields(task int32, l *tcLine, body []byte, entry bool, n int) {
	var name []byte
	call, ret := int64(-1), int64(-1)
	for s := body; len(s) > 0; {
		var f []byte
		f, s = cutField(s)
		s = trimLeft(s)
		eq := bytes.IndexByte(f, '=')
		if eq < 0 {
			continue
		}
		k, v := f[:eq], f[eq+1:]
		switch string(k) {
		case "func":
			name = v
		case "calltime":
			call = parseHex(v)
		case "rettime":
			ret = parseHex(v)
		}
	}
	if len(name) == 0 {
		warnBad(p.b, n, "\"func=ADDRESS\"", body)
		return
	}
	if entry {
		id := p.b.Enter(task, name, l.ts, l.cpu, int32(n))
		markFlags(p.b, id, l.flags)
		return
	}
	dur := int64(-1)
	if call >= 0 && ret >= call {
		dur = ret - call
	}
	p.b.Exit(task, name, l.ts, dur, l.cpu, int32(n))
}

// parseHex parses "0x1f" (or "1f") of at most 15 digits, or returns -1.
func parseHex(s []byte) int64 {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
	}
	if len(s) == 0 || len(s) > 15 {
		return -1
	}
	var v int64
	for _, c := range s {
		switch {
		case isDigit(c):
			v = v<<4 | int64(c-'0')
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			v = v<<4 | int64(c|0x20-'a'+10)
		default:
			return -1
		}
	}
	return v
}

// addFn adds what a function column says to task: a call's entry, a leaf,
// an exit, or a comment event; with its printed args, return value, return
// address and interrupt flag.
func addFn(b *Builder, stack *stackNote, task int32, fp *fnPart, ts, dur int64, cpu int16, n int, flags []byte) {
	var id NodeID
	line := int32(n)
	switch fp.kind {
	case fnEnter:
		id = b.Enter(task, fp.name, ts, cpu, line)
	case fnLeaf:
		id = b.Leaf(task, fp.name, ts, dur, cpu, line)
	case fnExit:
		id = b.Exit(task, fp.name, ts, dur, cpu, line)
	case fnComment:
		if bytes.HasPrefix(fp.text, []byte("<stack trace>")) {
			id = b.Event(task, []byte("kernel_stack"), "", ts, cpu, line)
			stack.start(id)
			return
		}
		b.Event(task, fp.name, string(fp.text), ts, cpu, line)
		return
	default:
		return
	}
	if fp.kind != fnExit {
		markFlags(b, id, flags)
	}
	switch {
	case len(fp.args) > 0 && len(fp.caller) > 0:
		b.SetNote(id, string(fp.args)+" <-"+string(fp.caller))
	case len(fp.args) > 0:
		b.SetNote(id, string(fp.args))
	case len(fp.caller) > 0:
		b.SetNote(id, "<-"+string(fp.caller))
	}
	if len(fp.ret) > 0 {
		b.SetRet(id, string(fp.ret))
	}
}

// markFlags flags node id FlagIRQ when its latency flags say it ran in
// interrupt context.
func markFlags(b *Builder, id NodeID, flags []byte) {
	if isIRQFlags(flags) {
		b.t.Nodes[id].Flags |= FlagIRQ
	}
}

func clip(s []byte) []byte {
	if len(s) > 60 {
		return s[:60]
	}
	return s
}
