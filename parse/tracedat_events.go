package parse

import (
	"encoding/binary"
	"fmt"
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
// compression chunk (or a window of pages) at a time. It runs on the
// CPU's decoding goroutine (see [datReader.decodeCPU]) and shares only
// read-only state of the datReader.
type cpuStream struct {
	d          *datReader
	cpu        int16
	compressed bool
	start      int64  // file offset of this CPU's data
	off, end   int64  // next file offset to read, end of this CPU's data
	chunks     uint32 // compressed chunks left
	buf        []byte // pages not yet parsed are buf[pos:]
	pos        int
	bufOff     int64 // file offset of buf[0] (of its chunk when compressed)
	out, zbuf  []byte
	syms       symCache

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

// newStream prepares the stream of CPU c; [cpuStream.open] reads its
// first bytes.
func (d *datReader) newStream(c datCPU) *cpuStream {
	return &cpuStream{d: d, cpu: int16(c.cpu), compressed: d.top.compressed, start: c.off, off: c.off, end: c.off + c.size}
}

// open reads the compression chunk count of compressed CPU data.
func (s *cpuStream) open() error {
	d := s.d
	if !s.compressed || s.end == s.start {
		return nil
	}
	cc := d.f.fileCursor(s.start)
	n, err := cc.u32("the compression chunk count")
	if err != nil {
		return err
	}
	// trace-cmd 3.1 records a size 4 bytes short of the chunks it
	// wrote (the count is not counted): allow for that.
	s.end = min(d.f.size, s.end+4)
	if int64(n) > (s.end-s.start-4)/8 {
		return d.f.truncf(s.start, "expected %d compression chunks of CPU %d data, but only %d bytes are left in the file", n, s.cpu, s.end-s.start-4)
	}
	s.chunks = n
	s.off += 4
	return nil
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
	f := s.d.f
	big := f.big
	for {
		for s.next < len(s.page) {
			data := s.page
			cur := s.next
			if cur+4 > len(data) {
				s.next = len(data)
				break
			}
			w := f.u32(data[cur:])
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
				n := int64(f.u32(data[idx:]))
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
				ext := uint64(f.u32(data[idx:]))<<rbTSShift + uint64(delta)
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
				l := f.u32(data[idx:])
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
	if fl.offset < 0 {
		return 0, false
	}
	return d.f.load(rec, locOf(fl))
}

// u16, u32 and u64 decode numbers in the file's byte order. They branch on
// it rather than call through the binary.ByteOrder interface, so that
// they inline in the per-record loops.
func (f *datFile) u16(b []byte) uint16 {
	if f.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (f *datFile) u32(b []byte) uint32 {
	if f.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (f *datFile) u64(b []byte) uint64 {
	if f.big {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
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
	tasks    map[int32]int32 // pid -> task index
	idle     []int32         // cpu -> task index of pid 0, or -1
	last     []pidTask       // cpu -> the task of its last record
	symIDs   []NameID        // kallsyms index -> name id + 1, 0 until resolved
	names    map[uint64]NameID
	line     int
	unknown  int
	lastType int
}

// pidTask caches the task of a pid: most records of a CPU come from the
// task of the record before.
type pidTask struct{ pid, task int32 }

func newRecordState(d *datReader) *recordState {
	return &recordState{tasks: map[int32]int32{}, names: map[uint64]NameID{},
		symIDs: make([]NameID, len(d.syms.syms)), line: 1}
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
	if cpu >= 0 && int(cpu) < len(rs.last) && rs.last[cpu].pid == pid && pid != 0 {
		return rs.last[cpu].task
	}
	t, ok := rs.tasks[pid]
	if !ok {
		comm, ok := d.comms[pid]
		if !ok {
			comm = "<...>"
		}
		t = d.b.Task(pid, []byte(comm), cpu)
		rs.tasks[pid] = t
	}
	if cpu >= 0 {
		for int(cpu) >= len(rs.last) {
			rs.last = append(rs.last, pidTask{pid: 0})
		}
		rs.last[cpu] = pidTask{pid, t}
	}
	return t
}

// funcName returns the id of the name trace-cmd report prints for a
// function address: its kallsyms name (sym, the index that
// [kallsyms.lookup] gave), or the address in hex when sym is -1. Each name
// is interned once, not once per call.
func (d *datReader) funcName(rs *recordState, sym int32, addr uint64) NameID {
	names := d.b.Names()
	if sym >= 0 && int(sym) < len(rs.symIDs) {
		if id := rs.symIDs[sym]; id > 0 {
			return id - 1
		}
		id := names.Intern(d.syms.name(int(sym)))
		rs.symIDs[sym] = id + 1
		return id
	}
	if id, ok := rs.names[addr]; ok {
		return id
	}
	id := names.Intern(strconv.AppendUint(nil, addr, 16))
	rs.names[addr] = id
	return id
}

// symCache remembers the kallsyms index of recently seen addresses for one
// CPU's goroutine, so that a function is looked up in the table about once
// rather than once per call. It is direct-mapped, by a Fibonacci hash of
// the address.
type symCache [1 << symCacheBits]struct {
	addr uint64
	sym  int32 // index + 1, 0 for an empty slot
}

const symCacheBits = 12

// lookup returns the index of the symbol addr resolves to, or -1.
func (c *symCache) lookup(k *kallsyms, addr uint64) int32 {
	e := &c[(addr*0x9e3779b97f4a7c15)>>(64-symCacheBits)]
	if e.sym != 0 && e.addr == addr {
		return e.sym - 1
	}
	i := int32(k.lookup(addr))
	e.addr, e.sym = addr, i+1
	return i
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
