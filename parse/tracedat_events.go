package parse

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Ring-buffer encodings (kernel ring_buffer.c, libtraceevent kbuffer).
const (
	rbTypePadding    = 29
	rbTypeTimeExtend = 30
	rbTypeTimeStamp  = 31
	rbTSShift        = 27
	rbTSMSB          = uint64(0xf8) << 56
	rbCommitMask     = 1<<27 - 1
	rbMissingEvents  = 1 << 31
	rbMissingStored  = 1 << 30
)

// cpuStream yields the records of one CPU in order, reading one
// compression chunk (or a window of pages) at a time.
type cpuStream struct {
	d          *datReader
	cpu        int16
	compressed bool
	off, end   int64  // next file offset to read, end of this CPU's data
	chunks     uint32 // compressed chunks left
	buf        []byte // pages not yet parsed are buf[pos:]
	pos        int
	bufOff     int64 // file offset of buf[0] (of its chunk when compressed)
	out, zbuf  []byte

	// The current page.
	page    []byte // its data area, up to the commit
	pageOff int64
	ts      uint64
	next    int
	lost    int64 // events lost before this page, not yet reported

	// The current record, valid while ok.
	ok      bool
	recTS   uint64
	rec     []byte
	recLost int64
}

func (d *datReader) newStream(c datCPU) (*cpuStream, error) {
	s := &cpuStream{d: d, cpu: int16(c.cpu), compressed: d.top.compressed, off: c.off, end: c.off + c.size}
	if s.compressed && c.size > 0 {
		cc := d.f.fileCursor(c.off)
		n, err := cc.u32("the compression chunk count")
		if err != nil {
			return nil, err
		}
		// trace-cmd 3.1 records a size 4 bytes short of the chunks it
		// wrote (the count is not counted): allow for that.
		s.end = min(d.f.size, c.off+c.size+4)
		if int64(n) > (s.end-c.off-4)/8 {
			return nil, d.f.truncf(c.off, "expected %d compression chunks of CPU %d data, but only %d bytes are left in the file", n, c.cpu, s.end-c.off-4)
		}
		s.chunks = n
		s.off += 4
	}
	return s, s.advance()
}

// refill reads the next chunk (or window of pages) after the unparsed
// bytes. It returns false at the end of the CPU's data.
func (s *cpuStream) refill() (bool, error) {
	f := s.d.f
	left := s.buf[s.pos:]
	var fresh []byte
	var freshOff int64
	if s.compressed {
		if s.chunks == 0 {
			return false, nil
		}
		s.chunks--
		c := f.fileCursor(s.off)
		zsize, err := c.u32("a compression chunk size")
		if err != nil {
			return false, err
		}
		usize, err := c.u32("a compression chunk's uncompressed size")
		if err != nil {
			return false, err
		}
		if int64(zsize) > s.end-s.off-8 {
			return false, f.truncf(s.off, "expected a compression chunk of %d bytes of CPU %d data, but the file ends %d bytes later", zsize, s.cpu, s.end-s.off-8)
		}
		if s.zbuf, err = f.readInto(s.zbuf, s.off+8, int64(zsize), "a compression chunk"); err != nil {
			return false, err
		}
		if s.out, err = f.decompress(s.zbuf, usize, s.off+8, "a chunk of CPU data", s.out); err != nil {
			return false, err
		}
		fresh, freshOff = s.out, s.off
		s.off += 8 + int64(zsize)
	} else {
		n := s.end - s.off
		if n <= 0 {
			return false, nil
		}
		n = min(n, int64(16*f.pageSize))
		var err error
		if s.out, err = f.readInto(s.out, s.off, n, "CPU data"); err != nil {
			return false, err
		}
		fresh, freshOff = s.out, s.off
		s.off += n
	}
	if len(left) == 0 {
		s.buf, s.bufOff = fresh, freshOff
	} else {
		// A page split across chunks: join the pieces in a new buffer,
		// so that s.out can be reused.
		joined := make([]byte, 0, len(left)+len(fresh))
		s.buf = append(append(joined, left...), fresh...)
		s.bufOff = s.bufOff + int64(s.pos)
	}
	s.pos = 0
	return true, nil
}

// nextPage loads the next page; it returns false at the end of the data.
func (s *cpuStream) nextPage() (bool, error) {
	f := s.d.f
	ps := f.pageSize
	for len(s.buf)-s.pos < ps {
		ok, err := s.refill()
		if err != nil {
			return false, err
		}
		if !ok {
			break
		}
	}
	avail := len(s.buf) - s.pos
	h := &s.d.hdr
	if avail < h.dataOff {
		// Nothing (or only a stub shorter than a page header) is left.
		s.pos = len(s.buf)
		return false, nil
	}
	p := s.buf[s.pos : s.pos+min(avail, ps)]
	s.pageOff = s.bufOff + int64(s.pos)
	if s.compressed {
		s.pageOff = s.bufOff // the chunk's offset: pages inside it have none
	}
	s.pos += len(p)
	s.ts = f.order.Uint64(p[h.tsOff:])
	var commit uint64
	if h.commitSize == 8 {
		commit = f.order.Uint64(p[h.commitOff:])
	} else {
		commit = uint64(f.order.Uint32(p[h.commitOff:]))
	}
	size := int(commit & rbCommitMask)
	if size > len(p)-h.dataOff {
		return false, f.errf(s.pageOff, "expected a ring-buffer page (CPU %d) to commit at most %d bytes, found %d", s.cpu, len(p)-h.dataOff, size)
	}
	s.page = p[h.dataOff : h.dataOff+size]
	s.next = 0
	if commit&rbMissingEvents != 0 {
		s.lost = -1
		if commit&rbMissingStored != 0 && h.dataOff+size+h.commitSize <= len(p) {
			q := p[h.dataOff+size:]
			if h.commitSize == 8 {
				s.lost = int64(f.order.Uint64(q) & (1<<62 - 1))
			} else {
				s.lost = int64(f.order.Uint32(q))
			}
		}
	}
	return true, nil
}

// advance moves to the next data record of the CPU, reading pages as
// needed; s.ok is false at the end.
func (s *cpuStream) advance() error {
	order := s.d.f.order
	big := s.d.f.big
	for {
		for s.next < len(s.page) {
			data := s.page
			cur := s.next
			if cur+4 > len(data) {
				s.next = len(data)
				break
			}
			w := order.Uint32(data[cur:])
			var typeLen, delta uint32
			if big {
				typeLen, delta = w>>27, w&(1<<27-1)
			} else {
				typeLen, delta = w&31, w>>5
			}
			idx := cur + 4
			switch typeLen {
			case rbTypePadding:
				if delta == 0 || idx+4 > len(data) {
					// The rest of the page is padding.
					s.next = len(data)
					continue
				}
				n := int64(order.Uint32(data[idx:]))
				s.ts += uint64(delta)
				if n > int64(len(data)-idx) {
					s.next = len(data)
				} else {
					s.next = idx + int(n)
				}
				continue
			case rbTypeTimeExtend, rbTypeTimeStamp:
				if idx+4 > len(data) {
					return s.d.f.errf(s.pageOff, "expected a time extend of 8 bytes at page byte %d (CPU %d), but the page commit ends at %d", cur, s.cpu, len(data))
				}
				ext := uint64(order.Uint32(data[idx:]))<<rbTSShift + uint64(delta)
				if typeLen == rbTypeTimeStamp {
					s.ts = ext | s.ts&rbTSMSB
				} else {
					s.ts += ext
				}
				s.next = idx + 4
				continue
			}
			var n int
			if typeLen == 0 {
				if idx+4 > len(data) {
					return s.d.f.errf(s.pageOff, "expected an event length at page byte %d (CPU %d), but the page commit ends at %d", cur, s.cpu, len(data))
				}
				l := order.Uint32(data[idx:])
				if l < 4 {
					return s.d.f.errf(s.pageOff, "expected an event length of at least 4 at page byte %d (CPU %d), found %d", cur, s.cpu, l)
				}
				n = int((l-4+3)&^3) & (1<<31 - 1)
				idx += 4
			} else {
				n = int(typeLen) * 4
			}
			if n > len(data)-idx {
				return s.d.f.errf(s.pageOff, "expected an event of %d bytes at page byte %d (CPU %d), but the page commit ends at %d", n, cur, s.cpu, len(data))
			}
			s.ts += uint64(delta)
			s.next = idx + n
			s.ok, s.recTS, s.rec = true, s.ts, data[idx:idx+n]
			s.recLost, s.lost = s.lost, 0
			return nil
		}
		ok, err := s.nextPage()
		if err != nil {
			return err
		}
		if !ok {
			s.ok, s.rec = false, nil
			return nil
		}
	}
}

// readInto reads n bytes at off into buf (grown as needed).
func (f *datFile) readInto(buf []byte, off, n int64, what string) ([]byte, error) {
	if off < 0 || n < 0 || off > f.size || n > f.size-off {
		return buf, f.truncf(off, "expected %d bytes of %s at offset %d, but the file is %d bytes long", n, what, off, f.size)
	}
	if int64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := f.ra.ReadAt(buf, off); err != nil && n > 0 {
		return buf, &Error{File: f.name, Offset: off, Msg: "reading " + what, Err: err}
	}
	return buf, nil
}

// fieldVal reads an integer field of a record; ok is false when the record
// is too short or the field has no integer size.
func (d *datReader) fieldVal(rec []byte, fl *fmtField) (v uint64, ok bool) {
	if fl.offset < 0 || fl.offset+fl.size > len(rec) {
		return 0, false
	}
	b := rec[fl.offset:]
	o := d.f.order
	switch fl.size {
	case 1:
		v = uint64(b[0])
		if fl.signed {
			v = uint64(int64(int8(b[0])))
		}
	case 2:
		v = uint64(o.Uint16(b))
		if fl.signed {
			v = uint64(int64(int16(v)))
		}
	case 4:
		v = uint64(o.Uint32(b))
		if fl.signed {
			v = uint64(int64(int32(v)))
		}
	case 8:
		v = o.Uint64(b)
	default:
		return 0, false
	}
	return v, true
}

// fieldBytes returns the bytes of an array or dynamic field, up to a NUL
// for strings.
func (d *datReader) fieldBytes(rec []byte, fl *fmtField) []byte {
	if fl.offset < 0 || fl.offset > len(rec) {
		return nil
	}
	var b []byte
	switch {
	case fl.dynamic:
		if fl.offset+4 > len(rec) {
			return nil
		}
		loc := d.f.order.Uint32(rec[fl.offset:])
		start, n := int(loc&0xffff), int(loc>>16)
		if fl.relLoc {
			start += fl.offset + fl.size
		}
		if start > len(rec) || n > len(rec)-start {
			return nil
		}
		b = rec[start : start+n]
	case fl.size == 0:
		b = rec[fl.offset:] // a flexible array: the rest of the record
	default:
		if fl.offset+fl.size > len(rec) {
			return nil
		}
		b = rec[fl.offset : fl.offset+fl.size]
	}
	if fl.isString() {
		for i, c := range b {
			if c == 0 {
				return b[:i]
			}
		}
	}
	return b
}

// recordState tracks what the records turn into.
type recordState struct {
	tasks    map[int32]int32   // pid -> task index
	idle     []int32           // cpu -> task index of pid 0, or -1
	names    map[uint64][]byte // function address -> name
	line     int
	unknown  int
	lastType int
}

// taskOf returns the task of pid, named as trace-cmd report names it: the
// saved comm, "<idle>" for pid 0, "<...>" when unknown.
// The idle task is pid 0 on every CPU: it is one task per CPU (see
// [Builder.TaskOnCPU]).
func (d *datReader) taskOf(rs *recordState, pid int32, cpu int16) int32 {
	if pid == 0 {
		for int(cpu) >= len(rs.idle) {
			rs.idle = append(rs.idle, -1)
		}
		if cpu >= 0 && rs.idle[cpu] < 0 {
			rs.idle[cpu] = d.b.TaskOnCPU(0, []byte("<idle>"), cpu)
		}
		if cpu >= 0 {
			return rs.idle[cpu]
		}
	}
	if t, ok := rs.tasks[pid]; ok {
		return t
	}
	comm, ok := d.comms[pid]
	if !ok {
		comm = "<...>"
	}
	t := d.b.Task(pid, []byte(comm), cpu)
	rs.tasks[pid] = t
	return t
}

// funcName returns the name trace-cmd report prints for a function
// address: its kallsyms name, or the address in hex.
func (d *datReader) funcName(rs *recordState, addr uint64) []byte {
	if n, ok := rs.names[addr]; ok {
		return n
	}
	var n []byte
	if i := d.syms.lookup(addr); i >= 0 {
		n = d.syms.name(i)
	} else {
		n = strconv.AppendUint(nil, addr, 16)
	}
	rs.names[addr] = n
	return n
}

// tsNS converts a ring-buffer timestamp as trace-cmd does (TSC scaling,
// then the file's time offset).
func (d *datReader) tsNS(ts uint64) int64 {
	if d.tscMult != 0 {
		lo, hi := ts&(1<<32-1), ts>>32
		r := lo * uint64(d.tscMult) >> d.tscShift
		if hi != 0 {
			r += hi * uint64(d.tscMult) << (32 - d.tscShift)
		}
		ts = r
	}
	return int64(ts) + d.tsOffset
}

// run merges the per-CPU record streams of the top-level buffer in time
// order, as `trace-cmd report` does (earliest timestamp first, the lower
// CPU on ties), and builds the model. Line numbers are those of the
// report: line 1 is its "cpus=N" header and every printed record (a leaf
// call's entry and exit print as one line) takes the next.
func (d *datReader) run() error {
	b := d.b
	cpus := d.cpuCount
	if cpus == 0 {
		cpus = len(d.top.cpus)
	}
	b.Header(fmt.Sprintf("cpus=%d", cpus))
	if d.uname != "" {
		b.Header("uname: " + d.uname)
	}
	if d.top.clock != "" {
		b.Header("clock: " + d.top.clock)
	}
	if len(d.others) > 0 {
		b.Header("other buffers (not read): " + strings.Join(d.others, ", "))
	}
	var streams []*cpuStream
	order := append([]datCPU(nil), d.top.cpus...)
	// trace-cmd keeps CPUs by id.
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && order[j].cpu < order[j-1].cpu; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	// CPU data must not overlap: a corrupt table must not make the reader
	// decode the same bytes once per CPU.
	byOff := make([]datCPU, 0, len(order))
	for _, c := range order {
		if c.size > 0 {
			byOff = append(byOff, c)
		}
	}
	sort.Slice(byOff, func(i, j int) bool { return byOff[i].off < byOff[j].off })
	for i := 1; i < len(byOff); i++ {
		if p, c := byOff[i-1], byOff[i]; c.off < p.off+p.size || c.cpu == p.cpu {
			return d.f.errf(c.off, "expected the data of CPU %d (offset %d) not to overlap that of CPU %d (offset %d, %d bytes)", c.cpu, c.off, p.cpu, p.off, p.size)
		}
	}
	for i := 1; i < len(order); i++ {
		if order[i].cpu == order[i-1].cpu && order[i].size > 0 {
			return d.f.errf(order[i].off, "expected one data block per CPU, found two for CPU %d", order[i].cpu)
		}
	}
	for _, c := range order {
		if c.size == 0 {
			continue
		}
		s, err := d.newStream(c)
		if err != nil {
			return err
		}
		streams = append(streams, s)
	}
	// Size the node slice from the CPU data once, rather than growing it
	// (and copying it) a dozen times: about one call per 24 bytes of
	// zstd-compressed records (2.2 million calls in large.dat's 42 MB),
	// or per 48 bytes of raw ones.
	var total int64
	for _, c := range byOff {
		total += c.size
	}
	per := int64(48)
	if d.top.compressed {
		per = 24
	}
	if want := min(total/per, 1<<26); int64(cap(b.t.Nodes)-len(b.t.Nodes)) < want {
		b.t.Nodes = slices.Grow(b.t.Nodes, int(want))
	}
	pick := func() *cpuStream {
		var best *cpuStream
		for _, s := range streams {
			if s.ok && (best == nil || s.recTS < best.recTS) {
				best = s
			}
		}
		return best
	}
	rs := &recordState{tasks: map[int32]int32{}, names: map[uint64][]byte{}, line: 1}
	ef := &d.formats
	if !ef.haveCommon {
		ef.typeOff, ef.typeSize = 0, 2
	}
	typeField := fmtField{offset: ef.typeOff, size: ef.typeSize}
	for {
		s := pick()
		if s == nil {
			break
		}
		if s.recLost != 0 {
			rs.line++
			b.LostEvents(s.cpu, s.recLost, int32(rs.line))
		}
		rs.line++
		line := int32(rs.line)
		ts := d.tsNS(s.recTS)
		typ, _ := d.fieldVal(s.rec, &typeField)
		ev := ef.get(int(typ))
		if ev == nil || ev.pid < 0 {
			rs.unknown++
			rs.lastType = int(typ)
			if err := s.advance(); err != nil {
				return err
			}
			continue
		}
		pv, _ := d.fieldVal(s.rec, &ev.fields[ev.pid])
		pid := int32(pv)
		switch ev.kind {
		case evFuncEntry:
			fn, _ := d.fieldVal(s.rec, &ev.fields[ev.fn])
			cpu := s.cpu
			if err := s.advance(); err != nil {
				return err
			}
			task := d.taskOf(rs, pid, cpu)
			name := d.funcName(rs, fn)
			// trace-cmd prints an entry followed by its own exit (the next
			// record of all CPUs) as one leaf line.
			if n := pick(); n != nil {
				if xt, _ := d.fieldVal(n.rec, &typeField); ef.get(int(xt)) != nil && ef.get(int(xt)).kind == evFuncExit {
					x := ef.get(int(xt))
					xp, _ := d.fieldVal(n.rec, &x.fields[x.pid])
					xf, _ := d.fieldVal(n.rec, &x.fields[x.fn])
					if int32(xp) == pid && xf == fn {
						dur, ret, hasRet := d.exitFields(n.rec, x)
						if err := n.advance(); err != nil {
							return err
						}
						id := b.Leaf(task, name, ts, dur, cpu, line)
						if hasRet {
							b.SetRet(id, ret)
						}
						continue
					}
				}
			}
			b.Enter(task, name, ts, cpu, line)
			continue
		case evFuncExit:
			dur, ret, hasRet := d.exitFields(s.rec, ev)
			id := b.Exit(d.taskOf(rs, pid, s.cpu), nil, ts, dur, s.cpu, line)
			if hasRet {
				b.SetRet(id, ret)
			}
		default:
			note := d.eventNote(rs, s.rec, ev)
			b.Event(d.taskOf(rs, pid, s.cpu), []byte(ev.name), note, ts, s.cpu, line)
		}
		if err := s.advance(); err != nil {
			return err
		}
	}
	if rs.unknown > 0 {
		b.Warnf(0, "%d records of event types without a format in the file (last: type %d) were skipped", rs.unknown, rs.lastType)
	}
	b.Finish(rs.line)
	return nil
}

// exitFields returns the duration (rettime - calltime) of a funcgraph_exit
// and its return value when the kernel records one.
func (d *datReader) exitFields(rec []byte, ev *eventFormat) (dur int64, ret string, hasRet bool) {
	ct, ok1 := d.fieldVal(rec, &ev.fields[ev.calltime])
	rt, ok2 := d.fieldVal(rec, &ev.fields[ev.rettime])
	dur = -1
	if ok1 && ok2 && rt >= ct && rt-ct < 1<<62 {
		dur = int64(rt - ct)
	}
	if ev.retval >= 0 {
		if v, ok := d.fieldVal(rec, &ev.fields[ev.retval]); ok {
			fl := &ev.fields[ev.retval]
			if fl.signed || fl.size == 8 && int64(v) < 0 && int64(v) > -4096 {
				ret = strconv.FormatInt(int64(v), 10)
			} else {
				ret = "0x" + strconv.FormatUint(v, 16)
			}
			hasRet = true
		}
	}
	return dur, ret, hasRet
}

// eventNote renders a non-call event's fields: sched_switch as trace-cmd's
// plugin prints it, print as its text, others as name=value pairs.
func (d *datReader) eventNote(rs *recordState, rec []byte, ev *eventFormat) string {
	var sb strings.Builder
	val := func(name string) (int64, bool) {
		i := ev.field(name)
		if i < 0 {
			return 0, false
		}
		v, ok := d.fieldVal(rec, &ev.fields[i])
		return int64(v), ok
	}
	str := func(name string) string {
		i := ev.field(name)
		if i < 0 {
			return ""
		}
		return string(d.fieldBytes(rec, &ev.fields[i]))
	}
	switch ev.kind {
	case evSchedSwitch:
		pp, _ := val("prev_pid")
		np, _ := val("next_pid")
		pc, nc := str("prev_comm"), str("next_comm")
		// trace-cmd's sched_switch plugin registers the comms it sees.
		for _, pc := range []struct {
			pid  int64
			comm string
		}{{pp, pc}, {np, nc}} {
			if _, ok := d.comms[int32(pc.pid)]; !ok && pc.comm != "" && pc.pid > 0 {
				d.comms[int32(pc.pid)] = pc.comm
				if _, ok := rs.tasks[int32(pc.pid)]; ok {
					d.b.Task(int32(pc.pid), []byte(pc.comm), -1) // replaces "<...>"
				}
			}
		}
		fmt.Fprintf(&sb, "%s:%d", pc, pp)
		if p, ok := val("prev_prio"); ok {
			fmt.Fprintf(&sb, " [%d]", int32(p))
		}
		if st, ok := val("prev_state"); ok {
			sb.WriteByte(' ')
			sb.WriteString(prevStateString(st))
		}
		fmt.Fprintf(&sb, " ==> %s:%d", nc, np)
		if p, ok := val("next_prio"); ok {
			fmt.Fprintf(&sb, " [%d]", int32(p))
		}
		return sb.String()
	case evPrint:
		if i := ev.field("buf"); i >= 0 {
			return strings.TrimRight(string(d.fieldBytes(rec, &ev.fields[i])), "\n")
		}
	}
	for i := range ev.fields {
		fl := &ev.fields[i]
		if strings.HasPrefix(fl.name, "common_") {
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(fl.name)
		sb.WriteByte('=')
		switch {
		case fl.isString():
			sb.WriteString(strconv.Quote(string(d.fieldBytes(rec, fl))))
		case fl.array || fl.dynamic:
			fmt.Fprintf(&sb, "[%d bytes]", len(d.fieldBytes(rec, fl)))
		default:
			v, ok := d.fieldVal(rec, fl)
			switch {
			case !ok:
				sb.WriteString("?")
			case fl.name == "fmt" && ev.name == "bprint":
				if f, ok := d.printk[v]; ok {
					sb.WriteString(strconv.Quote(f))
				} else {
					sb.WriteString("0x" + strconv.FormatUint(v, 16))
				}
			case strings.Contains(fl.typ, "*") || fl.name == "ip" || fl.name == "parent_ip":
				sb.WriteString("0x" + strconv.FormatUint(v, 16))
			case fl.signed:
				sb.WriteString(strconv.FormatInt(int64(v), 10))
			default:
				sb.WriteString(strconv.FormatUint(v, 10))
			}
		}
	}
	return sb.String()
}

// prevStateString renders a prev_state as trace-cmd's sched_switch plugin does.
func prevStateString(v int64) string {
	const states = "SDTtZXxW"
	var sb strings.Builder
	for i := 0; i < len(states); i++ {
		if v&(1<<i) == 0 {
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte('|')
		}
		sb.WriteByte(states[i])
	}
	if sb.Len() == 0 {
		return "R"
	}
	return sb.String()
}
