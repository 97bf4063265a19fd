package parse

import (
	"bufio"
	"bytes"
)

// perf script output with callchains (perf record -g): a header line per
// sample, then its frames leaf first, one a line, then a blank line:
//
//	iperf  4165/4165  [003] 1186.911012: 250000 cpu-clock:
//		ffffffff8172f5d4 tcp_recvmsg+0x1f ([kernel.kallsyms])
//		    7f3e2b1c8e4d [unknown] (/lib/x86_64-linux-gnu/libc-2.19.so)
//
// The header is "comm pid/tid [cpu] time: [period] event:", and perf
// versions leave out the tid, the CPU or the time ("java  3244
// cpu-clock:"); comm may hold spaces. A frame keeps its symbol (with
// "+0xoff" when perf printed it) and drops the address and the library.
// Each sample counts 1 and carries the keys "comm=X pid=N event=E".

// perfSample is the header of the sample being read.
type perfSample struct {
	line   int
	task   int32
	keys   string
	frames [][]byte
	arena  []byte
	spans  []btSpan
}

func parsePerfScript(b *Builder, r *bufio.Reader) error {
	lr := &lineReader{r: r}
	var cur perfSample
	open := false
	flush := func() {
		if !open {
			return
		}
		open = false
		if len(cur.spans) == 0 {
			return
		}
		cur.frames = cur.frames[:0]
		for i := len(cur.spans) - 1; i >= 0; i-- {
			sp := cur.spans[i]
			cur.frames = append(cur.frames, cur.arena[sp.lo:sp.hi])
		}
		b.Sample(cur.task, cur.frames, 1, "", cur.keys, int32(cur.line))
	}
	headers := 0
	for {
		s, ok := lr.next()
		if !ok {
			break
		}
		t := stTrim(s)
		if len(t) == 0 {
			flush()
			continue
		}
		if s[0] == ' ' || s[0] == '\t' {
			if !open {
				return stErrorf(b, lr.n, "expected a sample header \"comm pid [cpu] time: event:\" before frames, found %s", stQuote(t))
			}
			f, ok := perfFrame(t)
			if !ok {
				return stErrorf(b, lr.n, "expected a frame \"addr symbol (library)\", found %s", stQuote(t))
			}
			lo := len(cur.arena)
			cur.arena = append(cur.arena, f...)
			cur.spans = append(cur.spans, btSpan{int32(lo), int32(len(cur.arena))})
			continue
		}
		if t[0] == '#' {
			continue
		}
		flush()
		h, ok := perfHeader(t)
		if !ok {
			return stErrorf(b, lr.n, "expected a sample header \"comm pid [cpu] time: event:\", found %s", stQuote(t))
		}
		headers++
		open = true
		cur.line = lr.n
		cur.task = b.Task(h.pid, h.comm, -1)
		cur.keys = "comm=" + string(h.comm) + " pid=" + string(h.pidText) + " event=" + string(h.event)
		cur.arena, cur.spans = cur.arena[:0], cur.spans[:0]
	}
	if err := lr.readError(b); err != nil {
		return err
	}
	flush()
	b.Finish(lr.n)
	return nil
}

// perfHead is a parsed sample header.
type perfHead struct {
	comm, pidText, event []byte
	pid                  int32
}

// perfHeader parses "comm pid/tid [cpu] time: [period] event: ...". The
// pid is the first field after the comm that is a number (or number/number)
// followed by a "[cpu]", a "time:" or an "event:" field.
func perfHeader(t []byte) (h perfHead, ok bool) {
	f := bytes.Fields(t)
	for i := 1; i+1 < len(f); i++ {
		if !perfPID(f[i]) {
			continue
		}
		j := i + 1
		if n := f[j]; len(n) > 2 && n[0] == '[' && n[len(n)-1] == ']' && stIsDigits(n[1:len(n)-1]) {
			j++
		}
		if j < len(f) && perfTime(f[j]) {
			j++
		}
		if j < len(f) && stIsDigits(f[j]) && j+1 < len(f) {
			j++ // period
		}
		if j >= len(f) || f[j][len(f[j])-1] != ':' || len(f[j]) < 2 {
			continue
		}
		h.event = f[j][:len(f[j])-1]
		h.pidText = f[i]
		if k := bytes.IndexByte(f[i], '/'); k >= 0 {
			h.pidText = f[i][:k]
		}
		n, _ := stParseCount(h.pidText)
		if n > 1<<31-1 {
			n = -1
		}
		h.pid = int32(n)
		// The comm is everything before the pid, spaces kept.
		end := stFieldStart(t, i)
		h.comm = stTrim(t[:end])
		return h, len(h.comm) > 0
	}
	return h, false
}

// perfPID reports whether f is "1234" or "1234/1235".
func perfPID(f []byte) bool {
	if k := bytes.IndexByte(f, '/'); k >= 0 {
		return stIsDigits(f[:k]) && stIsDigits(f[k+1:])
	}
	return stIsDigits(f)
}

// perfTime reports whether f is a timestamp "1186.911012:".
func perfTime(f []byte) bool {
	if len(f) < 3 || f[len(f)-1] != ':' {
		return false
	}
	d := bytes.IndexByte(f, '.')
	return d > 0 && stIsDigits(f[:d]) && stIsDigits(f[d+1:len(f)-1])
}

// perfFrame returns the symbol of a trimmed frame line
// "ffffffff8172f5d4 tcp_recvmsg+0x1f ([kernel.kallsyms])".
func perfFrame(t []byte) ([]byte, bool) {
	sp := bytes.IndexAny(t, " \t")
	if sp < 0 {
		if stIsHex(t) {
			return t, true // an address alone
		}
		return nil, false
	}
	if !stIsHex(t[:sp]) {
		return nil, false
	}
	rest := stTrim(t[sp+1:])
	if k := bytes.LastIndex(rest, []byte(" (")); k >= 0 && rest[len(rest)-1] == ')' {
		rest = stTrim(rest[:k])
	} else if len(rest) > 0 && rest[0] == '(' && rest[len(rest)-1] == ')' {
		rest = nil // "addr (dso)": no symbol
	}
	if len(rest) == 0 {
		return []byte("[unknown]"), true
	}
	return rest, true
}

// scorePerfScript rates head as perf script output: sample headers each
// followed by a frame line.
func scorePerfScript(head []byte) int {
	if stLooksFuncgraph(head) {
		return 0
	}
	score := 0
	prevHeader := false
	stEachLine(head, func(line []byte) {
		t := stTrim(line)
		if len(t) == 0 {
			prevHeader = false
			return
		}
		if line[0] == ' ' || line[0] == '\t' {
			if prevHeader {
				if _, ok := perfFrame(t); ok {
					score += 10
				}
			}
			prevHeader = false
			return
		}
		_, prevHeader = perfHeader(t)
	})
	if score > 5000 {
		score = 5000
	}
	return score
}

// stFieldStart returns the offset in t of its space-separated field i.
func stFieldStart(t []byte, i int) int {
	n := -1
	for k := 0; k < len(t); k++ {
		if t[k] != ' ' && t[k] != '\t' && (k == 0 || t[k-1] == ' ' || t[k-1] == '\t') {
			n++
			if n == i {
				return k
			}
		}
	}
	return len(t)
}
