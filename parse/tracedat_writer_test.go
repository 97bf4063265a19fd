package parse

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// This file writes small synthetic trace.dat files for the tests: every
// file version, compression, byte order and long size the reader accepts,
// with ring-buffer encodings the corpus captures do not exercise (time
// extends, absolute time stamps, padding, lost events).

// datSpec describes a file to write.
type datSpec struct {
	version  int    // 6 or 7
	big      bool   // big-endian
	long4    bool   // 4-byte longs
	comp     string // "none", "zstd" or "zlib" (version 7 only)
	pageSize int
	cpus     [][]datPage // pages per CPU, CPU i has id i
}

// datPage is one ring-buffer page.
type datPage struct {
	ts     uint64
	events []rbEvent
	missed int64 // 0: none, -1: some (count not stored), n > 0: n stored
}

// rbEvent is one ring-buffer entry.
type rbEvent struct {
	kind    int // 0 data, rbTypeTimeExtend, rbTypeTimeStamp, rbTypePadding
	delta   uint32
	ext     uint64 // extend or absolute time, for those kinds
	payload []byte // data events
	pad     int    // padding length
}

// testByteOrder both reads and appends.
type testByteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func (s *datSpec) order() testByteOrder {
	if s.big {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func (s *datSpec) long() int {
	if s.long4 {
		return 4
	}
	return 8
}

// formats returns the ftrace format descriptions for the spec's long size.
func (s *datSpec) ftraceFormats() []string {
	l := s.long()
	common := "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n" +
		"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n" +
		"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n" +
		"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
	entry := fmt.Sprintf("name: funcgraph_entry\nID: 11\nformat:\n%s"+
		"\tfield:unsigned long func;\toffset:8;\tsize:%d;\tsigned:0;\n"+
		"\tfield:int depth;\toffset:%d;\tsize:4;\tsigned:1;\n\n"+
		"print fmt: \"--> %%ps (%%d)\", (void *)REC->func, REC->depth\n", common, l, 8+l)
	exit := fmt.Sprintf("name: funcgraph_exit\nID: 10\nformat:\n%s"+
		"\tfield:unsigned long func;\toffset:8;\tsize:%d;\tsigned:0;\n"+
		"\tfield:int depth;\toffset:%d;\tsize:4;\tsigned:1;\n"+
		"\tfield:unsigned int overrun;\toffset:%d;\tsize:4;\tsigned:0;\n"+
		"\tfield:unsigned long long calltime;\toffset:%d;\tsize:8;\tsigned:0;\n"+
		"\tfield:unsigned long long rettime;\toffset:%d;\tsize:8;\tsigned:0;\n\n"+
		"print fmt: \"<-- %%ps (%%d)\"\n", common, l, 8+l, 12+l, 16+l, 24+l)
	print := "name: print\nID: 5\nformat:\n" + common +
		fmt.Sprintf("\tfield:unsigned long ip;\toffset:8;\tsize:%d;\tsigned:0;\n", l) +
		fmt.Sprintf("\tfield:char buf[];\toffset:%d;\tsize:0;\tsigned:1;\n\nprint fmt: \"%%ps: %%s\"\n", 8+l)
	return []string{entry, exit, print}
}

func (s *datSpec) schedFormat() string {
	return "name: sched_switch\nID: 300\nformat:\n" +
		"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n" +
		"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n" +
		"\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n" +
		"\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n" +
		"\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n" +
		"\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n" +
		"\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;\n" +
		"\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;\n" +
		"\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;\n\nprint fmt: \"...\"\n"
}

func (s *datSpec) headerPage() string {
	l := s.long()
	return "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n" +
		fmt.Sprintf("\tfield: local_t commit;\toffset:8;\tsize:%d;\tsigned:1;\n", l) +
		"\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n" +
		fmt.Sprintf("\tfield: char data;\toffset:%d;\tsize:%d;\tsigned:1;\n", 8+l, s.pageSize-8-l)
}

// Addresses fit in 32 bits so that the 4-byte-long variants hold them.
const datTestKallsyms = "00000000c1000000 T _stext\n" +
	"00000000c1001000 T do_work\n" +
	"00000000c1001000 t do_work_alias\n" +
	"00000000c1002000 T helper\n" +
	"00000000c1003000 T leafy\n" +
	"00000000c1004000 A absolute_thing\n" +
	"00000000f8001000 t modfunc\t[mymod]\n"

const datTestCmdlines = "100 worker\n200 other\n"

// Function addresses of datTestKallsyms.
const (
	addrDoWork = 0xc1001000
	addrHelper = 0xc1002000
	addrLeafy  = 0xc1003000
	addrMod    = 0xf8001000
)

// payload encodes a record of the given event with fields in order.
func (s *datSpec) entry(pid int32, fn uint64, depth int32) []byte {
	b := s.common(11, pid, 8+s.long()+4)
	s.putLong(b[8:], fn)
	s.order().PutUint32(b[8+s.long():], uint32(depth))
	return b
}

func (s *datSpec) exit(pid int32, fn uint64, depth int32, call, ret uint64) []byte {
	l := s.long()
	b := s.common(10, pid, 8+l+8+16)
	s.putLong(b[8:], fn)
	s.order().PutUint32(b[8+l:], uint32(depth))
	s.order().PutUint64(b[16+l:], call)
	s.order().PutUint64(b[24+l:], ret)
	return b
}

func (s *datSpec) print(pid int32, text string) []byte {
	b := s.common(5, pid, 8+s.long())
	return append(append(b, text...), 0)
}

func (s *datSpec) sched(prev string, prevPid int32, next string, nextPid int32) []byte {
	b := s.common(300, prevPid, 64)
	copy(b[8:24], prev)
	s.order().PutUint32(b[24:], uint32(prevPid))
	s.order().PutUint32(b[28:], 120)
	s.order().PutUint64(b[32:], 1)
	copy(b[40:56], next)
	s.order().PutUint32(b[56:], uint32(nextPid))
	s.order().PutUint32(b[60:], 120)
	return b
}

func (s *datSpec) common(typ uint16, pid int32, n int) []byte {
	b := make([]byte, n)
	s.order().PutUint16(b, typ)
	s.order().PutUint32(b[4:], uint32(pid))
	return b
}

func (s *datSpec) putLong(b []byte, v uint64) {
	if s.long4 {
		s.order().PutUint32(b, uint32(v))
	} else {
		s.order().PutUint64(b, v)
	}
}

// page encodes one ring-buffer page.
func (s *datSpec) page(p datPage) []byte {
	o := s.order()
	l := s.long()
	var data []byte
	word := func(typeLen, delta uint32) {
		w := typeLen | delta<<5
		if s.big {
			w = typeLen<<27 | delta
		}
		data = o.AppendUint32(data, w)
	}
	for _, e := range p.events {
		switch e.kind {
		case rbTypeTimeExtend, rbTypeTimeStamp:
			word(uint32(e.kind), uint32(e.ext&(1<<27-1)))
			data = o.AppendUint32(data, uint32(e.ext>>27))
		case rbTypePadding:
			word(rbTypePadding, e.delta)
			data = o.AppendUint32(data, uint32(e.pad))
			data = append(data, make([]byte, e.pad-4)...)
		default:
			pl := append([]byte(nil), e.payload...)
			for len(pl)%4 != 0 {
				pl = append(pl, 0)
			}
			if len(pl) <= 28*4 {
				word(uint32(len(pl)/4), e.delta)
			} else {
				word(0, e.delta)
				data = o.AppendUint32(data, uint32(len(pl)+4))
			}
			data = append(data, pl...)
		}
	}
	pg := make([]byte, s.pageSize)
	o.PutUint64(pg, p.ts)
	commit := uint64(len(data))
	switch {
	case p.missed < 0:
		commit |= rbMissingEvents
	case p.missed > 0:
		commit |= rbMissingEvents | rbMissingStored
	}
	if l == 8 {
		o.PutUint64(pg[8:], commit)
	} else {
		o.PutUint32(pg[8:], uint32(commit))
	}
	copy(pg[8+l:], data)
	if p.missed > 0 {
		if l == 8 {
			o.PutUint64(pg[8+l+len(data):], uint64(p.missed))
		} else {
			o.PutUint32(pg[8+l+len(data):], uint32(p.missed))
		}
	}
	return pg
}

// datWriter accumulates a file.
type datWriter struct {
	s   *datSpec
	buf bytes.Buffer
}

func (w *datWriter) u16(v uint16) { w.buf.Write(w.s.order().AppendUint16(nil, v)) }
func (w *datWriter) u32(v uint32) { w.buf.Write(w.s.order().AppendUint32(nil, v)) }
func (w *datWriter) u64(v uint64) { w.buf.Write(w.s.order().AppendUint64(nil, v)) }
func (w *datWriter) str(v string) { w.buf.WriteString(v); w.buf.WriteByte(0) }
func (w *datWriter) patch64(at int, v uint64) {
	w.s.order().PutUint64(w.buf.Bytes()[at:], v)
}

// metadata returns the payloads of the metadata sections, in v6 order.
func (s *datSpec) metadata() [][]byte {
	w := &datWriter{s: s}
	hp := s.headerPage()
	w.str("header_page")
	w.u64(uint64(len(hp)))
	w.buf.WriteString(hp)
	he := "# compressed entry header\n\ttype_len    :    5 bits\n"
	w.str("header_event")
	w.u64(uint64(len(he)))
	w.buf.WriteString(he)
	header := append([]byte(nil), w.buf.Bytes()...)

	w.buf.Reset()
	ff := s.ftraceFormats()
	w.u32(uint32(len(ff)))
	for _, f := range ff {
		w.u64(uint64(len(f)))
		w.buf.WriteString(f)
	}
	ftrace := append([]byte(nil), w.buf.Bytes()...)

	w.buf.Reset()
	w.u32(1)
	w.str("sched")
	w.u32(1)
	sf := s.schedFormat()
	w.u64(uint64(len(sf)))
	w.buf.WriteString(sf)
	events := append([]byte(nil), w.buf.Bytes()...)

	w.buf.Reset()
	w.u32(uint32(len(datTestKallsyms)))
	w.buf.WriteString(datTestKallsyms)
	kall := append([]byte(nil), w.buf.Bytes()...)

	w.buf.Reset()
	pk := "0xffffffff82000000 : \"hello %d\\n\"\n"
	w.u32(uint32(len(pk)))
	w.buf.WriteString(pk)
	printk := append([]byte(nil), w.buf.Bytes()...)

	w.buf.Reset()
	w.u64(uint64(len(datTestCmdlines)))
	w.buf.WriteString(datTestCmdlines)
	cmd := append([]byte(nil), w.buf.Bytes()...)
	return [][]byte{header, ftrace, events, kall, printk, cmd}
}

func (s *datSpec) compress(b []byte) []byte {
	switch s.comp {
	case "zstd":
		e, _ := zstd.NewWriter(nil)
		defer e.Close()
		return e.EncodeAll(b, nil)
	case "zlib":
		var out bytes.Buffer
		zw := zlib.NewWriter(&out)
		zw.Write(b)
		zw.Close()
		return out.Bytes()
	}
	panic("no compression")
}

// bytes writes the file.
func (s *datSpec) bytes() []byte {
	w := &datWriter{s: s}
	w.buf.WriteString("\x17\x08Dtracing")
	w.str(fmt.Sprint(s.version))
	if s.big {
		w.buf.WriteByte(1)
	} else {
		w.buf.WriteByte(0)
	}
	w.buf.WriteByte(byte(s.long()))
	w.u32(uint32(s.pageSize))
	meta := s.metadata()
	cpuPages := make([][]byte, len(s.cpus))
	for i, pages := range s.cpus {
		for _, p := range pages {
			cpuPages[i] = append(cpuPages[i], s.page(p)...)
		}
	}
	align := func() {
		for w.buf.Len()%s.pageSize != 0 {
			w.buf.WriteByte(0)
		}
	}
	if s.version == 6 {
		for _, m := range meta {
			w.buf.Write(m)
		}
		w.u32(uint32(len(s.cpus)))
		w.buf.WriteString("options  \x00")
		w.u16(datOptUname)
		w.u32(6)
		w.str("synth")
		w.u16(datOptTraceClock)
		w.u32(15)
		w.str("[local] global")
		w.u16(0)
		w.buf.WriteString("flyrecord\x00")
		table := w.buf.Len()
		for range s.cpus {
			w.u64(0)
			w.u64(0)
		}
		for i, data := range cpuPages {
			align()
			w.patch64(table+16*i, uint64(w.buf.Len()))
			w.patch64(table+16*i+8, uint64(len(data)))
			w.buf.Write(data)
		}
		return w.buf.Bytes()
	}
	comp := s.comp != "none"
	if comp {
		w.str(s.comp)
		w.str("1.0")
	} else {
		w.str("none")
		w.str("")
	}
	optAt := w.buf.Len()
	w.u64(0)
	section := func(id uint16, data []byte) uint64 {
		off := uint64(w.buf.Len())
		w.u16(id)
		if comp {
			z := s.compress(data)
			w.u16(datSecCompressed)
			w.u32(0)
			w.u64(uint64(8 + len(z)))
			w.u32(uint32(len(z)))
			w.u32(uint32(len(data)))
			w.buf.Write(z)
		} else {
			w.u16(0)
			w.u32(0)
			w.u64(uint64(len(data)))
			w.buf.Write(data)
		}
		return off
	}
	var secOffs []uint64
	for i, m := range meta {
		secOffs = append(secOffs, section(uint16(datOptHeaderInfo+i), m))
	}
	// The flyrecord section: a header, then each CPU's data.
	fly := uint64(w.buf.Len())
	w.u16(datOptBuffer)
	if comp {
		w.u16(datSecCompressed)
	} else {
		w.u16(0)
	}
	w.u32(0)
	w.u64(0)
	type loc struct{ off, size uint64 }
	var locs []loc
	for _, data := range cpuPages {
		align()
		off := uint64(w.buf.Len())
		if comp {
			// Two pages per chunk.
			var chunks [][]byte
			for p := 0; p < len(data); p += 2 * s.pageSize {
				chunks = append(chunks, data[p:min(len(data), p+2*s.pageSize)])
			}
			w.u32(uint32(len(chunks)))
			for _, c := range chunks {
				z := s.compress(c)
				w.u32(uint32(len(z)))
				w.u32(uint32(len(c)))
				w.buf.Write(z)
			}
		} else {
			w.buf.Write(data)
		}
		locs = append(locs, loc{off, uint64(w.buf.Len()) - off})
	}
	// Options: the buffer in one options section, written first, then the
	// section offsets in the section the header points to, whose DONE
	// option chains to the first.
	bufOpt := &datWriter{s: s}
	bufOpt.u64(fly)
	bufOpt.str("")
	bufOpt.str("local")
	bufOpt.u32(uint32(s.pageSize))
	bufOpt.u32(uint32(len(s.cpus)))
	for i, l := range locs {
		bufOpt.u32(uint32(i))
		bufOpt.u64(l.off)
		bufOpt.u64(l.size)
	}
	second := &datWriter{s: s}
	second.u16(datOptBuffer)
	second.u32(uint32(bufOpt.buf.Len()))
	second.buf.Write(bufOpt.buf.Bytes())
	second.u16(datOptDone)
	second.u32(8)
	second.u64(0)
	secondOff := section(datOptDone, second.buf.Bytes())
	opt := &datWriter{s: s}
	for i, o := range secOffs {
		opt.u16(uint16(datOptHeaderInfo + i))
		opt.u32(8)
		opt.u64(o)
	}
	opt.u16(datOptCPUCount)
	opt.u32(4)
	opt.u32(uint32(len(s.cpus)))
	opt.u16(datOptUname)
	opt.u32(6)
	opt.str("synth")
	opt.u16(datOptDone)
	opt.u32(8)
	opt.u64(secondOff)
	w.patch64(optAt, section(datOptDone, opt.buf.Bytes()))
	return w.buf.Bytes()
}

// datTestSpec is the scenario every variant encodes: two CPUs, a task
// with nested and leaf calls, a time extend, an absolute time stamp,
// padding, lost events, a sched_switch, a trace_marker print, a module
// function and an address outside kallsyms.
func datTestSpec(version int, comp string, big, long4 bool) *datSpec {
	s := &datSpec{version: version, comp: comp, big: big, long4: long4, pageSize: 256}
	s.cpus = [][]datPage{
		{ // CPU 0: worker-100
			{ts: 1_000_000_000, events: []rbEvent{
				{payload: s.entry(100, addrDoWork, 0)},
				{delta: 1000, payload: s.entry(100, addrHelper, 1)},
				{delta: 500, payload: s.entry(100, addrLeafy, 2)},
				{delta: 700, payload: s.exit(100, addrLeafy, 2, 1_000_001_500, 1_000_002_200)},
				{kind: rbTypeTimeExtend, ext: 1 << 28},
				{delta: 10, payload: s.exit(100, addrHelper, 1, 1_000_001_000, 1_000_002_200+1<<28+10)},
				{kind: rbTypePadding, delta: 1, pad: 8},
			}},
			{ts: 1_300_000_000, missed: 5, events: []rbEvent{
				{payload: s.entry(100, addrMod, 1)},
				{delta: 100, payload: s.exit(100, addrMod, 1, 1_300_000_000, 1_300_000_100)},
				{delta: 100, payload: s.print(100, "marker text\n")},
				{delta: 100, payload: s.exit(100, addrDoWork, 0, 1_000_000_000, 1_300_000_300)},
				{delta: 100, payload: s.sched("worker", 100, "other", 200)},
			}},
		},
		{ // CPU 1: other-200, starting mid-call, and an unknown address
			{ts: 1_000_000_400, events: []rbEvent{
				{payload: s.exit(200, addrHelper, 0, 999_000_000, 1_000_000_400)},
				{kind: rbTypeTimeStamp, ext: 1_200_000_000},
				{payload: s.entry(200, 0x1234, 0)},
				{delta: 50, payload: s.entry(300, addrLeafy, 0)},
			}},
			{ts: 1_400_000_000, missed: -1, events: []rbEvent{
				{payload: s.exit(200, 0x1234, 0, 1_200_000_000, 1_400_000_000)},
			}},
		},
	}
	return s
}
