package parse

import (
	"bufio"
	"bytes"
)

// Raw ftrace text of the function_graph tracer (the trace and trace_pipe
// files, perf ftrace -G, perf-tools funcgraph). A line is a row of optional
// columns, then the function column:
//
//	360.774522 |   1)  reqlab--324   |  ...1. | + 20.379 us   |        } /* __fget_light */
//	 (abstime)   (cpu)     (proc)       (lat)     (duration)        (function)
//
// Columns the options turn off are absent; with nofuncgraph-duration there
// is no "|" at all (" 1)   getname() {"). The irqsoff tracer's display-graph
// prints a relative time "3750 us |" in place of the absolute one. Besides
// calls there are context-switch banners, interrupt markers, lost events
// and events printed as comments:
//
//	 ------------------------------------------
//	 0)  platfor-3210  =>  vmstat-2854
//	 ------------------------------------------
//	 0)   ==========> |
//	 1)               |                /* I'm a comment! */
//	CPU:2 [LOST 11745 EVENTS]
//
// With a proc column, tasks are keyed by its pid (pid 0 per CPU). Without
// it, each CPU's lines form a pseudo-task until a banner names the task
// switched to; the first banner also names the CPU's pseudo-task, which is
// the task it switched from. Lines that are not trace lines (prose, "[...]",
// shell prompts) are skipped; a line that starts like a trace line but
// cannot be read is a warning.

// ftKind says what a raw ftrace line holds.
type ftKind uint8

const (
	ftSkip     ftKind = iota // not a trace line
	ftBad                    // a trace line that cannot be read
	ftCall                   // a function column: call, exit or comment
	ftBanner                 // "cpu) from-pid => to-pid"
	ftIRQEnter               // "==========>"
	ftIRQExit                // "<=========="
)

// ftLine is one raw ftrace line, cut into fields that are slices of it.
type ftLine struct {
	kind     ftKind
	columns  bool  // a time or CPU column was read
	ts       int64 // ns, or -1
	cpu      int16 // -1 without a CPU column
	proc     bool
	comm     []byte
	pid      int32
	flags    []byte
	dur      int64 // ns, or -1
	fn       fnPart
	toComm   []byte // banners: the task switched to (comm, pid: from)
	toPID    int32
	expected string // ftBad: what was expected
	found    []byte // ftBad: what was found
}

var (
	irqEnterMark = []byte("==========>")
	irqExitMark  = []byte("<==========")
)

// cutFtrace classifies s and cuts it into l.
func cutFtrace(s []byte, l *ftLine) {
	*l = ftLine{ts: -1, cpu: -1, dur: -1}
	p := trimLeft(trimRight(s))
	if len(p) > 0 && isDigit(p[0]) {
		p = l.time(p)
	}
	if len(p) > 0 && isDigit(p[0]) {
		i := 0
		for i < len(p) && isDigit(p[i]) {
			i++
		}
		c, ok := atoi(p[:i])
		if i < len(p) && p[i] == ')' && ok && c <= 1<<14 {
			l.cpu = int16(c)
			l.columns = true
			p = p[i+1:]
		} else if l.columns {
			l.bad("the CPU column (\"1)\")", p)
			return
		} else {
			return // prose starting with a number
		}
	}
	p = trimLeft(p)
	if l.columns && bytes.IndexByte(p, '|') < 0 {
		if a := bytes.Index(p, []byte("=>")); a >= 0 {
			from, fromPID, ok1 := splitCommPID(trim(p[:a]))
			to, toPID, ok2 := splitCommPID(trim(p[a+2:]))
			if ok1 && ok2 {
				l.kind, l.toComm, l.toPID = ftBanner, trim(to), toPID
				l.comm, l.pid = trim(from), fromPID
				return
			}
		}
	}
	sawDur := false
cells:
	for !sawDur {
		bar := bytes.IndexByte(p, '|')
		if bar < 0 {
			break
		}
		cell := trim(p[:bar])
		switch {
		case len(cell) == 0:
			sawDur = true
		case bytes.Equal(cell, irqEnterMark):
			l.kind = ftIRQEnter
			return
		case bytes.Equal(cell, irqExitMark):
			l.kind = ftIRQExit
			return
		default:
			if d, ok := parseDuration(cell); ok {
				l.dur, sawDur = d, true
				break
			}
			if !l.proc && l.flags == nil {
				if comm, pid, ok := splitCommPID(cell); ok {
					l.proc, l.comm, l.pid = true, trimLeft(comm), pid
					break
				}
			}
			if l.flags == nil && (l.columns || l.proc) && isLatFlags(cell) {
				l.flags = cell
				break
			}
			break cells
		}
		p = p[bar+1:]
	}
	strong := l.columns || l.proc || l.dur >= 0
	if !strong && !sawDur {
		return
	}
	p = trimLeft(p)
	fp, expected := parseFn(p)
	switch {
	case expected != "" && strong:
		l.bad(expected, p)
	case expected != "":
		// "| text" without any column: prose, a table.
	case !strong && (fp.kind == fnComment || fp.junk):
		// "| text" without any column: prose, a table.
	default:
		l.kind, l.fn = ftCall, fp
	}
}

// time reads a leading absolute time "360.774522 |" or, when a CPU column
// follows, a relative time "3750 us |", returning the rest of p.
func (l *ftLine) time(p []byte) []byte {
	i := 0
	for i < len(p) && isDigit(p[i]) {
		i++
	}
	if i < len(p) && p[i] == '.' {
		j := i + 1
		for j < len(p) && isDigit(p[j]) {
			j++
		}
		k := trimLeft(p[j:])
		if len(k) > 0 && k[0] == '|' {
			if ts, ok := parseFixed(p[:j], 9); ok {
				l.ts = ts
			}
			l.columns = true
			return trimLeft(k[1:])
		}
		return p
	}
	k := trimLeft(p[i:])
	if len(k) == len(p[i:]) || !bytes.HasPrefix(k, []byte("us")) {
		return p
	}
	k = trimLeft(k[2:])
	if len(k) == 0 || k[0] != '|' {
		return p
	}
	after := trimLeft(k[1:])
	j := 0
	for j < len(after) && isDigit(after[j]) {
		j++
	}
	if j == 0 || j == len(after) || after[j] != ')' {
		return p // a duration cell, not a time
	}
	if us, ok := parseFixed(p[:i], 3); ok {
		l.ts = us
	}
	l.columns = true
	return after
}

func (l *ftLine) bad(expected string, found []byte) {
	l.kind, l.expected, l.found = ftBad, expected, found
}

// classifyFtrace weighs a line for detection: 1 for a function_graph line.
func classifyFtrace(line []byte, l *ftLine) int {
	cutFtrace(line, l)
	switch l.kind {
	case ftCall, ftBanner, ftIRQEnter, ftIRQExit:
		return 1
	}
	return 0
}

// scoreFtrace counts the function_graph lines of head.
func scoreFtrace(head []byte) int {
	var l ftLine
	return scoreLines(head, func(line []byte) int { return classifyFtrace(line, &l) })
}

// ftParser holds the state of one raw ftrace capture being read.
type ftParser struct {
	b       *Builder
	cur     map[int16]int32 // the task each CPU runs, as banners said
	sawProc bool            // the capture has a proc column: banners are redundant
	last    int32           // task of the last call line, or -1
	stack   stackNote
}

// task returns the task of a call line.
func (p *ftParser) task(l *ftLine) int32 {
	if l.proc {
		p.sawProc = true
		if l.pid == 0 {
			return p.b.TaskOnCPU(0, l.comm, l.cpu)
		}
		return p.b.Task(l.pid, l.comm, l.cpu)
	}
	if t, ok := p.cur[l.cpu]; ok {
		return t
	}
	return p.b.Task(-1, nil, l.cpu)
}

// banner switches l's CPU to the task a context-switch banner names.
func (p *ftParser) banner(l *ftLine) {
	if p.sawProc {
		return
	}
	if _, ok := p.cur[l.cpu]; !ok {
		p.b.NameTask(l.cpu, l.pid, l.comm)
	}
	if l.toPID == 0 {
		p.cur[l.cpu] = p.b.TaskOnCPU(0, l.toComm, l.cpu)
	} else {
		p.cur[l.cpu] = p.b.Task(l.toPID, l.toComm, l.cpu)
	}
}

// parseFtrace reads raw ftrace text of the function_graph tracer.
func parseFtrace(b *Builder, r *bufio.Reader) error {
	p := &ftParser{b: b, cur: map[int16]int32{}, last: -1, stack: stackNote{id: None}}
	lr := &lineReader{r: r}
	var l ftLine
	for {
		line, ok := lr.next()
		if !ok {
			break
		}
		n := lr.n
		if lr.cut {
			b.Warnf(n, "line longer than %d bytes cut", maxLine)
		}
		s := trimRight(trimLeft(line))
		if len(s) == 0 {
			continue
		}
		if len(s) > 1 && s[0] == '=' && s[1] == '>' {
			p.stack.frame(s) // a frame of a kernel stack, or prose
			continue
		}
		p.stack.flush(b)
		switch s[0] {
		case '#':
			if bytes.HasPrefix(s, []byte("# tracer: ")) {
				// A new capture starts (pastes hold several): what
				// banners said of the CPUs no longer holds.
				b.Header(string(trim(s[2:])))
				clear(p.cur)
			}
			continue
		case 'C', '[':
			if cpu, count, ok := lostEvents(s); ok {
				b.LostEvents(cpu, count, int32(n))
				continue
			}
		}
		cutFtrace(line, &l)
		switch l.kind {
		case ftSkip:
			if p.last >= 0 && bytes.Contains(s, []byte("<stack trace>")) {
				p.stack.start(b.Event(p.last, []byte("kernel_stack"), "", -1, -1, int32(n)))
			}
		case ftBad:
			warnBad(b, n, l.expected, l.found)
		case ftBanner:
			p.banner(&l)
		case ftIRQEnter, ftIRQExit:
			t := p.task(&l)
			b.SetIRQ(t, l.kind == ftIRQEnter)
			p.last = t
		case ftCall:
			t := p.task(&l)
			addFn(b, &p.stack, t, &l.fn, l.ts, l.dur, l.cpu, n, l.flags)
			p.last = t
		}
	}
	p.stack.flush(b)
	b.Finish(lr.n)
	return lr.readError(b)
}
