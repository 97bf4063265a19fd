package parse

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// This file runs the per-CPU trace data through the model. Decompressing
// and decoding the ring-buffer pages is most of the work and each CPU's
// data is independent, so every CPU gets a goroutine that turns its pages
// into compact records ([datRec]), handed over in small batches that are
// recycled. The Builder is single-threaded: one loop ([datReader.merge])
// merges the CPUs' records in time order and makes every Builder call in
// the order a sequential reader would, so the model does not depend on the
// scheduling. Memory stays bounded: a few batches per CPU are in flight,
// never the CPU's whole data.
//
// An error (or a panic) on a CPU's goroutine travels in its stream, after
// the records before it, so the merge reports it where a sequential reader
// would have met it: the same error for the same file, every time.

// datRec is one ring-buffer record, decoded into what the merge needs. It
// is kept small (40 bytes): millions of them pass through the batches.
type datRec struct {
	ts  uint64 // ring-buffer timestamp (see [datReader.tsNS])
	fn  uint64 // funcgraph: the function address; other events: start of the record in the batch arena
	dur int64  // funcgraph_exit: rettime - calltime, or -1; other events: end of the record in the arena
	pid int32
	// aux is, for a funcgraph_entry, the kallsyms index of fn or -1; for a
	// funcgraph_exit with a return value, the value's index in the batch's
	// rets.
	aux   int32
	typ   uint32 // the event type (common_type)
	kind  eventKind
	flags uint8 // recLost, recRet
}

// datRec flags.
const (
	recLost = 1 << iota // events were lost just before: the next count in the batch's lost
	recRet              // a funcgraph_exit with a return value
)

// recSkip is the kind of a record whose type has no usable format.
const recSkip eventKind = 255

// datBatch carries records of one CPU from its goroutine to the merge.
type datBatch struct {
	recs  []datRec
	arena []byte   // raw records of other events, which the merge renders
	rets  []uint64 // raw return values of funcgraph_exit records
	lost  []int64  // events lost (-1: an unknown number), one per recLost record, in order
	err   error    // what ended the CPU's data after recs, if not its end
}

// fieldLoc is where an integer field lies in a record; size 0 when the
// event has no such field, or not one of 1, 2, 4 or 8 bytes.
type fieldLoc struct {
	off    uint32
	size   uint8
	signed bool
}

func locOf(fl *fmtField) fieldLoc {
	switch fl.size {
	case 1, 2, 4, 8:
		return fieldLoc{off: uint32(fl.offset), size: uint8(fl.size), signed: fl.signed}
	}
	return fieldLoc{}
}

// recPlan says which fields decodeRec reads from the records of one event
// type, worked out once from its format rather than per record.
type recPlan struct {
	kind                               eventKind // recSkip without a usable format
	pid, fn, calltime, rettime, retval fieldLoc
	// fast is the record length from which decodeRec may read a
	// funcgraph record's fields without checking each: a 4-byte pid and
	// 8-byte others, as 64-bit kernels write them. 0: no fast path.
	fast int
}

// makePlans builds the plan of every event type, indexed by type.
func (d *datReader) makePlans() {
	ef := &d.formats
	d.plans = make([]recPlan, len(ef.byID))
	for i, ev := range ef.byID {
		p := &d.plans[i]
		p.kind = recSkip
		if ev == nil || ev.pid < 0 {
			continue
		}
		p.kind, p.pid = ev.kind, locOf(&ev.fields[ev.pid])
		for _, f := range []struct {
			i   int
			loc *fieldLoc
		}{{ev.fn, &p.fn}, {ev.calltime, &p.calltime}, {ev.rettime, &p.rettime}, {ev.retval, &p.retval}} {
			if f.i >= 0 {
				*f.loc = locOf(&ev.fields[f.i])
			}
		}
		p.fast = fastLen(p)
	}
}

// fastLen returns the recPlan.fast of p.
func fastLen(p *recPlan) int {
	if p.pid.size != 4 || p.fn.size != 8 {
		return 0
	}
	n := max(int(p.pid.off)+4, int(p.fn.off)+8)
	switch p.kind {
	case evFuncEntry:
		return n
	case evFuncExit:
		if p.calltime.size != 8 || p.rettime.size != 8 || p.retval.size != 0 && p.retval.size != 8 {
			return 0
		}
		return max(n, int(p.calltime.off)+8, int(p.rettime.off)+8, int(p.retval.off)+int(p.retval.size))
	}
	return 0
}

// load reads the integer field at l of a record, sign-extended when it is
// signed; ok is false when the record is too short or there is no field.
func (f *datFile) load(rec []byte, l fieldLoc) (v uint64, ok bool) {
	end := int(l.off) + int(l.size)
	if l.size == 0 || end > len(rec) {
		return 0, false
	}
	b := rec[l.off:end]
	switch len(b) {
	case 8:
		return f.u64(b), true
	case 4:
		v = uint64(f.u32(b))
		if l.signed {
			v = uint64(int64(int32(v)))
		}
	case 2:
		v = uint64(f.u16(b))
		if l.signed {
			v = uint64(int64(int16(v)))
		}
	default:
		v = uint64(b[0])
		if l.signed {
			v = uint64(int64(int8(b[0])))
		}
	}
	return v, true
}

// Batch geometry: per CPU, datBatches batches of up to datBatchRecs
// records (fewer with many CPUs, to keep about datBatchBudget bytes in
// flight), and at most datArenaMax bytes of raw event records per batch.
const (
	datBatches     = 3
	datBatchRecs   = 2048
	datBatchBudget = 16 << 20
	datArenaMax    = 256 << 10
)

// recStream is the merge's side of one CPU: the current record and the
// batch that holds it.
type recStream struct {
	cpu  int16
	full <-chan *datBatch
	free chan<- *datBatch
	b    *datBatch
	i    int
	li   int // the current record's count in b.lost, when it has recLost
	ok   bool
	rec  *datRec // the current record, valid while ok and until next
}

// lost returns the number of events lost just before the current record:
// 0, a count, or -1 for an unknown number.
func (s *recStream) lost() int64 {
	if s.rec.flags&recLost == 0 {
		return 0
	}
	return s.b.lost[s.li]
}

// ret returns the raw return value of the current record, a funcgraph_exit
// with recRet.
func (s *recStream) ret() uint64 { return s.b.rets[s.rec.aux] }

// next moves to the CPU's next record (ok is false at its end). It hands
// the finished batch back, so a record must not be used after next.
func (s *recStream) next() error {
	if s.b != nil {
		if s.rec.flags&recLost != 0 {
			s.li++
		}
		s.i++
		if s.i < len(s.b.recs) {
			s.rec = &s.b.recs[s.i]
			return nil
		}
		err := s.b.err
		s.free <- s.b // never blocks: free has room for every batch
		s.b, s.rec, s.ok = nil, nil, false
		if err != nil {
			return err
		}
	}
	for b := range s.full {
		if len(b.recs) > 0 {
			s.b, s.i, s.li, s.rec, s.ok = b, 0, 0, &b.recs[0], true
			return nil
		}
		err := b.err
		s.free <- b
		if err != nil {
			return err
		}
	}
	s.rec, s.ok = nil, false
	return nil
}

// decodeCPU runs on its own goroutine: it fills batches from free with the
// records of s and sends them on full, which it closes at the end of the
// data, after an error, or when done is closed.
func (d *datReader) decodeCPU(s *cpuStream, full chan<- *datBatch, free <-chan *datBatch, done <-chan struct{}) {
	defer close(full)
	opened := false
	for {
		var b *datBatch
		select {
		case b = <-free:
		case <-done:
			return
		}
		b.recs, b.arena, b.rets, b.lost, b.err = b.recs[:0], b.arena[:0], b.rets[:0], b.lost[:0], nil
		end := d.fillBatch(s, b, &opened)
		select {
		case full <- b:
		case <-done:
			return
		}
		if end {
			return
		}
	}
}

// fillBatch decodes records of s into b until b is full; it returns true at
// the end of the CPU's data or after an error, which it leaves in b.err.
func (d *datReader) fillBatch(s *cpuStream, b *datBatch, opened *bool) (end bool) {
	defer func() {
		// As in ParseTraceDat: a reader bug is an error at the input.
		if p := recover(); p != nil {
			b.err = &Error{File: d.f.name, Offset: -1, Msg: fmt.Sprintf("internal error reading trace.dat input: %v", p)}
			end = true
		}
	}()
	if !*opened {
		*opened = true
		if err := s.open(); err != nil {
			b.err = err
			return true
		}
	}
	for len(b.recs) < cap(b.recs) && len(b.arena) < datArenaMax {
		if err := s.advance(); err != nil {
			b.err = err
			return true
		}
		if !s.ok {
			return true
		}
		d.decodeRec(s.rec, s.recTS, s.recLost, b, &s.syms)
	}
	return false
}

// decodeRec appends the record rec to b: the fields the merge needs of a
// funcgraph record, the raw bytes of other events.
func (d *datReader) decodeRec(rec []byte, ts uint64, lost int64, b *datBatch, syms *symCache) {
	f := d.f
	typ, _ := f.load(rec, d.typeLoc)
	n := len(b.recs)
	b.recs = b.recs[:n+1] // the caller leaves room
	r := &b.recs[n]
	*r = datRec{ts: ts, typ: uint32(typ), kind: recSkip}
	if lost != 0 {
		r.flags |= recLost
		b.lost = append(b.lost, lost)
	}
	if typ >= uint64(len(d.plans)) || d.plans[typ].kind == recSkip {
		return
	}
	p := &d.plans[typ]
	if p.fast != 0 && len(rec) >= p.fast {
		// The same values as below, with the bounds checked once.
		r.pid, r.kind = int32(f.u32(rec[p.pid.off:])), p.kind
		r.fn = f.u64(rec[p.fn.off:])
		if p.kind == evFuncEntry {
			r.aux = syms.lookup(&d.syms, r.fn)
			return
		}
		ct, rt := f.u64(rec[p.calltime.off:]), f.u64(rec[p.rettime.off:])
		r.dur = -1
		if rt >= ct && rt-ct < 1<<62 {
			r.dur = int64(rt - ct)
		}
		if p.retval.size == 8 {
			r.flags |= recRet
			r.aux = int32(len(b.rets))
			b.rets = append(b.rets, f.u64(rec[p.retval.off:]))
		}
		return
	}
	pid, _ := f.load(rec, p.pid)
	r.pid, r.kind = int32(pid), p.kind
	switch p.kind {
	case evFuncEntry:
		r.fn, _ = f.load(rec, p.fn)
		r.aux = syms.lookup(&d.syms, r.fn)
	case evFuncExit:
		r.fn, _ = f.load(rec, p.fn)
		ct, ok1 := f.load(rec, p.calltime)
		rt, ok2 := f.load(rec, p.rettime)
		r.dur = -1
		if ok1 && ok2 && rt >= ct && rt-ct < 1<<62 {
			r.dur = int64(rt - ct)
		}
		if v, ok := f.load(rec, p.retval); ok {
			r.flags |= recRet
			r.aux = int32(len(b.rets))
			b.rets = append(b.rets, v)
		}
	default:
		r.fn = uint64(len(b.arena))
		b.arena = append(b.arena, rec...)
		r.dur = int64(len(b.arena))
	}
}

// retString renders the return value v of a funcgraph_exit of type typ as
// trace-cmd prints it.
func (d *datReader) retString(typ uint32, v uint64) string {
	ev := d.formats.get(int(typ))
	fl := &ev.fields[ev.retval]
	if fl.signed || fl.size == 8 && int64(v) < 0 && int64(v) > -4096 {
		return strconv.FormatInt(int64(v), 10)
	}
	return "0x" + strconv.FormatUint(v, 16)
}

// rawSize estimates the bytes of ring-buffer pages CPU c holds once
// decompressed, from the chunk headers (at most limit of them, the rest
// extrapolated). It only sizes the model: a corrupt header ends the count
// and is reported when the data is read. The estimate is at most
// datMaxRawRatio times the compressed size, so that a file claiming huge
// chunks cannot make the reader reserve memory it will not use.
func (d *datReader) rawSize(c datCPU, limit int) int64 {
	f := d.f
	if !d.top.compressed || c.size < 4 {
		return c.size
	}
	var h [8]byte
	if _, err := f.ra.ReadAt(h[:4], c.off); err != nil {
		return 0
	}
	n := f.order.Uint32(h[:])
	off, end := c.off+4, min(f.size, c.off+c.size+4)
	var raw int64
	for ; n > 0 && limit > 0 && off+8 <= end; n, limit = n-1, limit-1 {
		if _, err := f.ra.ReadAt(h[:], off); err != nil {
			break
		}
		z, u := int64(f.order.Uint32(h[:])), int64(f.order.Uint32(h[4:]))
		if u > maxDatSection || u > z*maxDatRatio+4096 {
			break // decompress rejects it
		}
		raw += u
		off += 8 + z
	}
	if n > 0 && off > c.off+4 && off < end {
		raw += int64(float64(raw) * float64(end-off) / float64(off-c.off-4))
	}
	return min(raw, c.size*datMaxRawRatio)
}

// datMaxRawRatio bounds the compression ratio [datReader.rawSize] assumes;
// function_graph records compress about 3.5 times with zstd.
const datMaxRawRatio = 16

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
	var active []datCPU
	for _, c := range order {
		if c.size > 0 {
			active = append(active, c)
		}
	}
	ef := &d.formats
	if !ef.haveCommon {
		ef.typeOff, ef.typeSize = 0, 2
	}
	d.typeLoc = locOf(&fmtField{offset: ef.typeOff, size: ef.typeSize})
	d.makePlans()
	if d.top.compressed && d.f.compName == "zstd" && d.f.zstd == nil && len(active) > 0 {
		// Made here, before the goroutines share it.
		var err error
		if d.f.zstd, err = newZstdDecoder(); err != nil {
			return &Error{File: d.f.name, Offset: active[0].off, Msg: "starting the zstd decoder", Err: err}
		}
	}

	// Size the node slice once from the raw size of the CPU data, rather
	// than growing (and copying) it: a function_graph call takes an entry
	// and an exit record, at least 68 bytes with their headers. This comes
	// before the goroutines start: the garbage collection that so large an
	// allocation may start must not wait for them to leave the decoder's
	// assembly loops, where they cannot be preempted.
	var raw int64
	for _, c := range active {
		raw += d.rawSize(c, max(16, 8192/len(active)))
	}
	if want := min(raw/64, 1<<26); int64(cap(b.t.Nodes)-len(b.t.Nodes)) < want {
		// make, not slices.Grow: fresh memory from the system needs no
		// clearing, so its pages are touched only as nodes fill them.
		nodes := make([]Node, len(b.t.Nodes), want)
		copy(nodes, b.t.Nodes)
		b.t.Nodes = nodes
	}

	// One goroutine per CPU decodes its data; stop ends them all.
	done := make(chan struct{})
	var wg sync.WaitGroup
	stop := func() {
		close(done)
		wg.Wait()
	}
	defer stop()
	recSize := int(unsafe.Sizeof(datRec{}))
	per := min(datBatchRecs, max(256, datBatchBudget/(datBatches*max(1, len(active))*recSize)))
	streams := make([]*recStream, 0, len(active))
	for _, c := range active {
		full := make(chan *datBatch, datBatches)
		free := make(chan *datBatch, datBatches)
		for range datBatches {
			free <- &datBatch{recs: make([]datRec, 0, per)}
		}
		s := d.newStream(c)
		wg.Go(func() { d.decodeCPU(s, full, free, done) })
		streams = append(streams, &recStream{cpu: int16(c.cpu), full: full, free: free})
	}
	for _, s := range streams {
		if err := s.next(); err != nil {
			return err
		}
	}
	return d.merge(streams)
}

// merge builds the model from the records of streams in time order.
func (d *datReader) merge(streams []*recStream) error {
	b := d.b
	pick := func() *recStream {
		var best *recStream
		for _, s := range streams {
			if s.ok && (best == nil || s.rec.ts < best.rec.ts) {
				best = s
			}
		}
		return best
	}
	rs := newRecordState(d)
	ef := &d.formats
	for {
		s := pick()
		if s == nil {
			break
		}
		r := s.rec
		if lost := s.lost(); lost != 0 {
			rs.line++
			b.LostEvents(s.cpu, lost, int32(rs.line))
		}
		rs.line++
		line := int32(rs.line)
		ts := d.tsNS(r.ts)
		switch r.kind {
		case recSkip:
			rs.unknown++
			rs.lastType = int(r.typ)
		case evFuncEntry:
			pid, fn, sym, cpu := r.pid, r.fn, r.aux, s.cpu
			if err := s.next(); err != nil {
				return err
			}
			task := d.taskOf(rs, pid, cpu)
			name := d.funcName(rs, sym, fn)
			// trace-cmd prints an entry followed by its own exit (the next
			// record of all CPUs) as one leaf line.
			if n := pick(); n != nil {
				if x := n.rec; x.kind == evFuncExit && x.pid == pid && x.fn == fn {
					dur, hasRet := x.dur, x.flags&recRet != 0
					var ret string
					if hasRet {
						ret = d.retString(x.typ, n.ret())
					}
					if err := n.next(); err != nil {
						return err
					}
					id := leafID(b, task, name, ts, dur, cpu, line)
					if hasRet {
						b.SetRet(id, ret)
					}
					continue
				}
			}
			enterID(b, task, name, ts, cpu, line)
			continue
		case evFuncExit:
			id := b.Exit(d.taskOf(rs, r.pid, s.cpu), nil, ts, r.dur, s.cpu, line)
			if r.flags&recRet != 0 {
				b.SetRet(id, d.retString(r.typ, s.ret()))
			}
		default:
			ev := ef.get(int(r.typ))
			note := d.eventNote(rs, s.b.arena[r.fn:r.dur], ev)
			b.Event(d.taskOf(rs, r.pid, s.cpu), []byte(ev.name), note, ts, s.cpu, line)
		}
		if err := s.next(); err != nil {
			return err
		}
	}
	if rs.unknown > 0 {
		b.Warnf(0, "%d records of event types without a format in the file (last: type %d) were skipped", rs.unknown, rs.lastType)
	}
	b.Finish(rs.line)
	return nil
}

// enterID is [Builder.Enter] and leafID is [Builder.Leaf] for a name
// interned already: the merge resolves each function address to a name id
// once (see [datReader.funcName]) instead of hashing the name of every
// call, which was a tenth of the reading time.
func enterID(b *Builder, task int32, name NameID, ts int64, cpu int16, line int32) NodeID {
	id := b.add(task, name, ts, -1, cpu, line, 0)
	st := &b.tasks[task]
	st.open = append(st.open, openCall{id: id, last: None})
	return id
}

func leafID(b *Builder, task int32, name NameID, ts, dur int64, cpu int16, line int32) NodeID {
	return b.add(task, name, ts, dur, cpu, line, FlagLeaf)
}
