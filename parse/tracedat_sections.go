package parse

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// Option and section ids of trace.dat (trace-cmd.dat.v7(5)). In version 7
// a section has the id of the option that points to it.
const (
	datOptDone         = 0
	datOptDate         = 1
	datOptBuffer       = 3
	datOptTraceClock   = 4
	datOptUname        = 5
	datOptOffset       = 7
	datOptCPUCount     = 8
	datOptVersion      = 9
	datOptTSC2NSec     = 14
	datOptStrings      = 15
	datOptHeaderInfo   = 16
	datOptFtraceEvents = 17
	datOptEventFormats = 18
	datOptKallsyms     = 19
	datOptPrintk       = 20
	datOptCmdlines     = 21
	datOptBufferText   = 22

	datSecCompressed = 1 // section flag: the section is compressed
)

// Bounds on what a file may ask for, so that a corrupt or hostile file
// cannot make the reader allocate without limit.
const (
	maxDatSection   = 1 << 28 // bytes of one decompressed section or chunk
	maxDatRatio     = 1024    // decompressed bytes per compressed byte
	maxDatOptions   = 64      // chained options sections
	maxDatCPUs      = 1 << 13
	maxDatFormat    = 1 << 20 // bytes of one event format description
	maxDatEventsLen = 1 << 16 // event formats per system, and systems
)

// datCPU locates the trace data of one CPU of a buffer.
type datCPU struct {
	cpu       int
	off, size int64
}

// datBuffer is one ftrace buffer (instance) with data in the file.
type datBuffer struct {
	name       string
	clock      string
	secOff     int64 // v7: offset of its flyrecord section
	cpus       []datCPU
	compressed bool
	latency    bool
}

// datReader holds what the metadata says while the records are read.
type datReader struct {
	f        *datFile
	b        *Builder
	cpuCount int
	uname    string
	tversion string
	clock    string
	tsOffset int64
	tscMult  uint32
	tscShift uint32
	sections map[uint16]int64
	top      *datBuffer
	others   []string // names of the other buffers (instances)

	hdr     pageHeader
	formats eventFormats
	typeLoc fieldLoc  // common_type, read first in every record
	plans   []recPlan // by event type: what to read of its records
	syms    kallsyms
	printk  map[uint64]string
	comms   map[int32]string
}

func newDatReader(f *datFile, b *Builder) *datReader {
	return &datReader{f: f, b: b, sections: map[uint16]int64{}, comms: map[int32]string{}, printk: map[uint64]string{}}
}

// readV7 reads the compression header, the chain of options sections and
// the metadata sections they point to.
func (d *datReader) readV7(c *cursor) error {
	f := d.f
	nameOff := c.off()
	var err error
	if f.compName, err = c.cstring(64, "the compression algorithm name"); err != nil {
		return err
	}
	if f.compVer, err = c.cstring(64, "the compression algorithm version"); err != nil {
		return err
	}
	switch f.compName {
	case "", "none", "zstd", "zlib":
	default:
		return f.errf(nameOff, "expected compression none, zstd or zlib, found %q (not supported)", f.compName)
	}
	optOff := c.off()
	next, err := c.u64("the offset of the first options section")
	if err != nil {
		return err
	}
	if next == 0 {
		return f.errf(optOff, "expected the offset of the first options section, found 0")
	}
	seen := map[uint64]bool{}
	for next != 0 {
		if seen[next] || len(seen) >= maxDatOptions {
			return f.errf(optOff, "expected a chain of at most %d options sections, found a loop or more", maxDatOptions)
		}
		seen[next] = true
		optOff = int64(next)
		if next > uint64(f.size) {
			return f.truncf(optOff, "expected an options section at offset %d, but the file is %d bytes long", next, f.size)
		}
		if next, err = d.readOptions(int64(next)); err != nil {
			return err
		}
	}
	for _, s := range []struct {
		id       uint16
		name     string
		required bool
		read     func(*cursor) error
	}{
		{datOptHeaderInfo, "header info", true, d.readHeaderInfo},
		{datOptFtraceEvents, "ftrace event formats", false, d.readFtraceFormats},
		{datOptEventFormats, "event formats", false, d.readEventFormats},
		{datOptKallsyms, "kallsyms", false, d.readKallsyms},
		{datOptPrintk, "trace_printk formats", false, d.readPrintk},
		{datOptCmdlines, "saved command lines", false, d.readCmdlines},
	} {
		off, ok := d.sections[s.id]
		if !ok {
			if s.required {
				return f.errf(0, "expected a %s section, but no option points to one", s.name)
			}
			continue
		}
		sc, err := d.section(off, s.id, s.name)
		if err != nil {
			return err
		}
		if err := s.read(sc); err != nil {
			return err
		}
	}
	if d.top == nil {
		return f.errf(0, "expected a BUFFER option describing the top-level trace data, found none")
	}
	if d.top.latency {
		return f.errf(d.top.secOff, "the top-level buffer holds latency-format text, not flyrecord data: not supported")
	}
	// The flyrecord section header says whether the CPU data is compressed.
	hc := f.fileCursor(d.top.secOff)
	hc.order = f.order
	id, flags, _, err := readSectionHeader(hc)
	if err != nil {
		return err
	}
	if id != datOptBuffer {
		return f.errf(d.top.secOff, "expected a flyrecord section (id %d) where the BUFFER option points, found section id %d", datOptBuffer, id)
	}
	d.top.compressed = flags&datSecCompressed != 0
	if d.top.compressed && (f.compName == "" || f.compName == "none") {
		return f.errf(d.top.secOff, "expected uncompressed trace data (the file names no compression), found a compressed flyrecord section")
	}
	return nil
}

// readSectionHeader reads a v7 section header: id, flags, description
// string id and size.
func readSectionHeader(c *cursor) (id, flags uint16, size uint64, err error) {
	if id, err = c.u16("the section id"); err != nil {
		return
	}
	if flags, err = c.u16("the section flags"); err != nil {
		return
	}
	if _, err = c.u32("the section description"); err != nil {
		return
	}
	size, err = c.u64("the section size")
	return
}

// section reads the v7 section at off, checks its id and returns a cursor
// on its (decompressed) contents.
func (d *datReader) section(off int64, want uint16, what string) (*cursor, error) {
	f := d.f
	c := f.fileCursor(off)
	id, flags, size, err := readSectionHeader(c)
	if err != nil {
		return nil, err
	}
	if id != want {
		return nil, f.errf(off, "expected the %s section (id %d), found section id %d", what, want, id)
	}
	if size > uint64(c.left()) {
		return nil, f.truncf(c.off(), "expected %d bytes of the %s section, but the file ends %d bytes later", size, what, c.left())
	}
	if size > maxDatSection {
		return nil, f.errf(off, "expected a %s section under %d bytes, found %d", what, maxDatSection, size)
	}
	if flags&datSecCompressed == 0 {
		data, err := c.bytes(int(size), "the "+what+" section")
		if err != nil {
			return nil, err
		}
		return f.memCursor(data, off+16, off, what), nil
	}
	data, err := c.bytes(int(size), "the "+what+" section")
	if err != nil {
		return nil, err
	}
	mc := f.memCursor(data, off+16, off, what)
	zsize, err := mc.u32("the compressed size")
	if err != nil {
		return nil, err
	}
	usize, err := mc.u32("the uncompressed size")
	if err != nil {
		return nil, err
	}
	if int64(zsize) > mc.left() {
		return nil, f.truncf(off+24, "expected %d compressed bytes in the %s section, but it holds %d", zsize, what, mc.left())
	}
	z, _ := mc.bytes(int(zsize), "compressed data")
	out, err := f.decompress(z, usize, off+24, what, nil)
	if err != nil {
		return nil, err
	}
	return f.memCursor(out, -1, off, what), nil
}

// decompress decompresses one block (a section or a chunk of trace data)
// that holds usize bytes once decompressed; off locates it for errors.
func (f *datFile) decompress(z []byte, usize uint32, off int64, what string, dst []byte) ([]byte, error) {
	if usize > maxDatSection || uint64(usize) > uint64(len(z))*maxDatRatio+4096 {
		return nil, f.errf(off, "expected %s to decompress to under %d times its %d bytes, but it claims %d bytes", what, maxDatRatio, len(z), usize)
	}
	out := dst[:0]
	if cap(out) < int(usize)+datSlack {
		out = make([]byte, 0, int(usize)+datSlack)
	}
	var err error
	switch f.compName {
	case "zstd":
		if f.zstd == nil {
			if f.zstd, err = newZstdDecoder(); err != nil {
				return nil, &Error{File: f.name, Offset: off, Msg: "starting the zstd decoder", Err: err}
			}
		}
		out, err = f.zstd.d.DecodeAll(z, out)
	case "zlib":
		var zr io.ReadCloser
		if zr, err = zlib.NewReader(bytes.NewReader(z)); err == nil {
			var n int
			out = out[:usize]
			n, err = io.ReadFull(zr, out)
			out = out[:n]
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = nil // reported as a size mismatch below
			}
			zr.Close()
		}
	default:
		return nil, f.errf(off, "expected uncompressed data (the file names compression %q), found a compressed %s", f.compName, what)
	}
	if err != nil {
		return nil, &Error{File: f.name, Offset: off, Msg: fmt.Sprintf("decompressing %s (%s)", what, f.compName), Err: err}
	}
	if len(out) != int(usize) {
		return nil, f.errf(off, "expected %s to decompress to %d bytes, found %d", what, usize, len(out))
	}
	return out, nil
}

// datSlack is room left after a decompressed block. trace-cmd's zstd
// frames do not declare their size, and the decoder then takes its slower
// bounds-exact copies (about a third of the decoding time) unless a whole
// block (at most 128 KiB) and 32 bytes more still fit in the buffer.
const datSlack = 128<<10 + 64

// zstdDecoder wraps one zstd decoder, reused for every block of a file. The
// per-CPU goroutines share it: DecodeAll is safe for concurrent use and
// runs up to GOMAXPROCS blocks at once.
type zstdDecoder struct{ d *zstd.Decoder }

func newZstdDecoder() (*zstdDecoder, error) {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)), zstd.WithDecodeAllCapLimit(true),
		zstd.WithDecoderMaxMemory(maxDatSection))
	if err != nil {
		return nil, err
	}
	return &zstdDecoder{d}, nil
}

func (z *zstdDecoder) close() { z.d.Close() }

// readOptions reads the v7 options section at off and returns the offset of
// the next options section (0 for none).
func (d *datReader) readOptions(off int64) (uint64, error) {
	c, err := d.section(off, datOptDone, "options")
	if err != nil {
		return 0, err
	}
	for {
		id, err := c.u16("an option id")
		if err != nil {
			return 0, err
		}
		size, err := c.u32("an option size")
		if err != nil {
			return 0, err
		}
		optOff := c.off()
		data, err := c.bytes(int(min(size, 1<<31-1)), "option data")
		if err != nil {
			return 0, err
		}
		if id == datOptDone {
			if len(data) < 8 {
				return 0, c.errf(false, "expected 8 bytes in the DONE option, found %d", len(data))
			}
			return d.f.order.Uint64(data), nil
		}
		if err := d.option(id, data, optOff, c); err != nil {
			return 0, err
		}
	}
}

// option handles one option (both versions).
func (d *datReader) option(id uint16, data []byte, off int64, c *cursor) error {
	f := d.f
	str := func() string {
		if i := bytes.IndexByte(data, 0); i >= 0 {
			return string(data[:i])
		}
		return string(data)
	}
	switch id {
	case datOptDate:
		// Microseconds (as "0x..." text) between the trace clock and
		// the time of day; trace-cmd adds it to every timestamp.
		if v, err := strconv.ParseInt(strings.TrimSpace(str()), 0, 64); err == nil {
			d.tsOffset += v * 1000
		}
	case datOptOffset:
		if v, err := strconv.ParseInt(strings.TrimSpace(str()), 0, 64); err == nil {
			d.tsOffset += v
		}
	case datOptTraceClock:
		s := str()
		if i := strings.IndexByte(s, '['); i >= 0 {
			if j := strings.IndexByte(s[i:], ']'); j > 0 {
				d.clock = s[i+1 : i+j]
			}
		}
	case datOptUname:
		d.uname = str()
	case datOptVersion:
		d.tversion = str()
	case datOptCPUCount:
		if len(data) >= 4 {
			d.cpuCount = int(f.order.Uint32(data))
		}
	case datOptTSC2NSec:
		if len(data) >= 16 {
			d.tscMult = f.order.Uint32(data)
			d.tscShift = f.order.Uint32(data[4:])
			if d.tscShift > 63 {
				d.tscMult = 0
			}
		}
	case datOptHeaderInfo, datOptFtraceEvents, datOptEventFormats, datOptKallsyms, datOptPrintk, datOptCmdlines:
		if len(data) >= 8 {
			so := f.order.Uint64(data)
			if so > uint64(f.size) {
				return f.truncf(off, "expected a section at offset %d, but the file is %d bytes long", so, f.size)
			}
			d.sections[id] = int64(so)
		}
	case datOptBuffer, datOptBufferText:
		if f.version < 7 {
			// Version 6 lists the other instances by offset and name;
			// their data is not read.
			if len(data) > 8 {
				d.others = append(d.others, strings.TrimRight(string(data[8:]), "\x00"))
			}
			return nil
		}
		buf, err := d.bufferOption(id, data, off)
		if err != nil {
			return err
		}
		if buf.name == "" {
			d.top = buf
		} else {
			d.others = append(d.others, buf.name)
		}
	}
	return nil
}

// bufferOption parses a v7 BUFFER (or BUFFER_TEXT) option: the flyrecord
// section offset, the instance name and clock, then (trace-cmd 3.1 on) the
// sub-buffer size, and the CPUs with their data offsets and sizes.
func (d *datReader) bufferOption(id uint16, data []byte, off int64) (*datBuffer, error) {
	f := d.f
	c := f.memCursor(data, off, off, "BUFFER option")
	so, err := c.u64("the flyrecord section offset")
	if err != nil {
		return nil, err
	}
	if so > uint64(f.size) {
		return nil, f.truncf(off, "expected a flyrecord section at offset %d, but the file is %d bytes long", so, f.size)
	}
	buf := &datBuffer{secOff: int64(so)}
	if buf.name, err = c.cstring(1024, "the buffer name"); err != nil {
		return nil, err
	}
	if buf.clock, err = c.cstring(1024, "the buffer clock"); err != nil {
		return nil, err
	}
	if id == datOptBufferText {
		buf.latency = true
		return buf, nil
	}
	// Older writers put the CPU count right here; trace-cmd 3.1 and later
	// put the sub-buffer (page) size first. The option's size tells which.
	rest := c.left()
	start := c.p
	cpus, err := c.u32("the CPU count")
	if err != nil {
		return nil, err
	}
	if 4+int64(cpus)*20 != rest {
		c.p = start
		if _, err := c.u32("the page size"); err != nil {
			return nil, err
		}
		if cpus, err = c.u32("the CPU count"); err != nil {
			return nil, err
		}
		if 8+int64(cpus)*20 != rest {
			c.p = start
			return nil, c.errf(false, "expected the CPU list of the buffer to fill the %d bytes left in the option", rest)
		}
	}
	if cpus > maxDatCPUs {
		return nil, c.errf(false, "expected at most %d CPUs, found %d", maxDatCPUs, cpus)
	}
	for i := 0; i < int(cpus); i++ {
		cpu, _ := c.u32("a CPU id")
		o, _ := c.u64("a CPU data offset")
		s, err := c.u64("a CPU data size")
		if err != nil {
			return nil, err
		}
		if cpu >= maxDatCPUs {
			return nil, c.errf(false, "expected a CPU id under %d, found %d", maxDatCPUs, cpu)
		}
		if o > uint64(f.size) || s > uint64(f.size)-o {
			return nil, f.truncf(off, "expected the data of CPU %d at offset %d (%d bytes), but the file is %d bytes long", cpu, o, s, f.size)
		}
		buf.cpus = append(buf.cpus, datCPU{cpu: int(cpu), off: int64(o), size: int64(s)})
	}
	return buf, nil
}

// readV6 reads the sequential header of a version 6 file: header info,
// formats, kallsyms, printk formats, cmdlines, the CPU count, options and
// the flyrecord CPU table.
func (d *datReader) readV6(c *cursor) error {
	f := d.f
	for _, read := range []func(*cursor) error{d.readHeaderInfo, d.readFtraceFormats, d.readEventFormats,
		d.readKallsyms, d.readPrintk, d.readCmdlines} {
		if err := read(c); err != nil {
			return err
		}
	}
	cpus, err := c.u32("the CPU count")
	if err != nil {
		return err
	}
	if cpus > maxDatCPUs {
		return c.errf(false, "expected at most %d CPUs, found %d", maxDatCPUs, cpus)
	}
	d.cpuCount = int(cpus)
	kindOff := c.off()
	kind, err := c.bytes(10, "the data kind (options, latency or flyrecord)")
	if err != nil {
		return err
	}
	if bytes.HasPrefix(kind, []byte("options")) {
		for n := 0; ; n++ {
			id, err := c.u16("an option id")
			if err != nil {
				return err
			}
			if id == datOptDone {
				break
			}
			size, err := c.u32("an option size")
			if err != nil {
				return err
			}
			off := c.off()
			data, err := c.bytes(int(min(size, 1<<31-1)), "option data")
			if err != nil {
				return err
			}
			if err := d.option(id, data, off, c); err != nil {
				return err
			}
		}
		kindOff = c.off()
		if kind, err = c.bytes(10, "the data kind (latency or flyrecord)"); err != nil {
			return err
		}
	}
	switch {
	case bytes.HasPrefix(kind, []byte("latency")):
		return f.errf(kindOff, "the file holds a latency-format text trace, not flyrecord data: not supported")
	case !bytes.HasPrefix(kind, []byte("flyrecord")):
		return f.errf(kindOff, "expected \"options\", \"latency\" or \"flyrecord\", found %q", kind)
	}
	top := &datBuffer{clock: d.clock}
	for i := 0; i < d.cpuCount; i++ {
		o, err := c.u64("a CPU data offset")
		if err != nil {
			return err
		}
		s, err := c.u64("a CPU data size")
		if err != nil {
			return err
		}
		if o > uint64(f.size) || s > uint64(f.size)-o {
			return f.truncf(c.off()-16, "expected the data of CPU %d at offset %d (%d bytes), but the file is %d bytes long", i, o, s, f.size)
		}
		top.cpus = append(top.cpus, datCPU{cpu: i, off: int64(o), size: int64(s)})
	}
	d.top = top
	return nil
}
