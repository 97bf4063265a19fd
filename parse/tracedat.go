package parse

// This file reads trace-cmd's binary trace.dat (file versions 6 and 7, as
// trace-cmd 3.x writes them) into the model, with no `trace-cmd report`
// step. The layout follows the trace-cmd.dat.v6(5) and trace-cmd.dat.v7(5)
// manual pages and the readers in libtracecmd (trace-input.c,
// trace-compress.c) and libtraceevent (kbuffer-parse.c):
//
//   - tracedat.go: entry points, the initial header, positioned errors;
//   - tracedat_sections.go: the v7 section table, options and compression,
//     and the sequential v6 header;
//   - tracedat_format.go: header_page and event format descriptions;
//   - tracedat_syms.go: kallsyms, trace_printk formats, saved cmdlines;
//   - tracedat_events.go: ring-buffer pages and the translation of records
//     into calls and events;
//   - tracedat_merge.go: one goroutine per CPU decompressing and decoding
//     its pages, and the merge of their records, in time order, into the
//     model.
//
// Memory stays proportional to the model, not to the file: metadata
// sections are read (and decompressed) one at a time, and the per-CPU trace
// data is read one compression chunk (or a window of pages) per CPU at a
// time through an io.ReaderAt, with a few batches of decoded records per
// CPU in flight.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxTraceDatVersion is the newest trace.dat file version this reader knows.
const maxTraceDatVersion = 7

// ParseTraceDat reads the trace.dat capture in r, which holds size bytes;
// name is used in errors and as Trace.Path. Only the sections needed are
// read, one at a time, so memory stays proportional to the model rather
// than to the file. A truncated or corrupt file gives an [*Error] with the
// byte offset of the problem.
func ParseTraceDat(name string, r io.ReaderAt, size int64) (t *Trace, err error) {
	defer func() {
		// A reader bug must not take the program down: report it as an
		// error at the input instead.
		if p := recover(); p != nil {
			t, err = nil, &Error{File: name, Offset: -1, Msg: fmt.Sprintf("internal error reading trace.dat input: %v", p)}
		}
	}()
	// No size hint: the reader sizes the nodes itself, from the trace
	// data rather than the file (see datReader.run).
	b := NewBuilder(name, FormatTraceDat, 0)
	if err := readTraceDat(b, r, size); err != nil {
		return nil, err
	}
	t = b.t
	if t.Calls() == 0 && len(t.Nodes) == 0 {
		return nil, &Error{File: name, Offset: -1, Msg: "trace.dat file holds no call or event", Err: ErrUnknownFormat}
	}
	return t, nil
}

// ParseTraceDatFile opens the trace.dat file at path and reads it with
// [ParseTraceDat], reading sections on demand rather than the whole file.
func ParseTraceDatFile(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return ParseTraceDat(path, f, st.Size())
}

// parseTraceDat reads a trace.dat file from a stream. The v7 format is
// addressed by offsets, so a stream is read into memory first; files opened
// from disk should go through [ParseTraceDat] instead.
func parseTraceDat(b *Builder, r *bufio.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return &Error{File: b.t.Path, Offset: int64(len(data)), Msg: "reading trace.dat input", Err: err}
	}
	return readTraceDat(b, bytes.NewReader(data), int64(len(data)))
}

// datFile is one trace.dat file being read.
type datFile struct {
	name     string
	ra       io.ReaderAt
	size     int64
	order    binary.ByteOrder
	big      bool // big-endian
	version  int
	longSize int // user-space long size from the initial header
	pageSize int
	compName string // compression algorithm, "" or "none" when uncompressed
	compVer  string
	zstd     *zstdDecoder
}

// readTraceDat reads the whole capture into b.
func readTraceDat(b *Builder, ra io.ReaderAt, size int64) error {
	f := &datFile{name: b.t.Path, ra: ra, size: size}
	defer f.close()
	c := f.fileCursor(0)
	magic, err := c.bytes(len(traceDatMagic), "the trace.dat magic bytes")
	if err != nil {
		return err
	}
	if !bytes.Equal(magic, traceDatMagic) {
		return f.errf(0, "expected the trace.dat magic bytes \\x17\\x08Dtracing, found % x", magic)
	}
	verOff := c.off()
	ver, err := c.cstring(16, "the file version string")
	if err != nil {
		return err
	}
	v := 0
	for _, ch := range ver {
		if ch < '0' || ch > '9' || v > 1000 {
			return f.errf(verOff, "expected a decimal file version, found %q", ver)
		}
		v = v*10 + int(ch-'0')
	}
	if len(ver) == 0 {
		return f.errf(verOff, "expected a decimal file version, found an empty string")
	}
	if v > maxTraceDatVersion {
		return f.errf(verOff, "trace.dat file version %d is newer than this reader supports (versions 6 and 7): convert it with `trace-cmd convert --file-version 7` or update tracediff", v)
	}
	if v < 6 {
		return f.errf(verOff, "trace.dat file version %d is older than this reader supports (versions 6 and 7)", v)
	}
	f.version = v
	endOff := c.off()
	hdr, err := c.bytes(2, "the endianness and long size bytes")
	if err != nil {
		return err
	}
	switch hdr[0] {
	case 0:
		f.order = binary.LittleEndian
	case 1:
		f.order, f.big = binary.BigEndian, true
	default:
		return f.errf(endOff, "expected endianness 0 (little) or 1 (big), found %d", hdr[0])
	}
	c.order = f.order
	if hdr[1] != 4 && hdr[1] != 8 {
		return f.errf(endOff+1, "expected a long size of 4 or 8 bytes, found %d", hdr[1])
	}
	f.longSize = int(hdr[1])
	psOff := c.off()
	ps, err := c.u32("the page size")
	if err != nil {
		return err
	}
	if ps < 64 || ps > 1<<20 || ps&(ps-1) != 0 {
		return f.errf(psOff, "expected a page size that is a power of two between 64 bytes and 1 MiB, found %d", ps)
	}
	f.pageSize = int(ps)
	d := newDatReader(f, b)
	if v >= 7 {
		err = d.readV7(c)
	} else {
		err = d.readV6(c)
	}
	if err != nil {
		return err
	}
	return d.run()
}

func (f *datFile) close() {
	if f.zstd != nil {
		f.zstd.close()
	}
}

// errf returns a positioned error about the file.
func (f *datFile) errf(off int64, format string, args ...any) error {
	return &Error{File: f.name, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// truncf returns a positioned error about the file ending too soon.
func (f *datFile) truncf(off int64, format string, args ...any) error {
	return &Error{File: f.name, Offset: off, Msg: fmt.Sprintf(format, args...), Err: ErrTruncated}
}

// readAt reads n bytes at off, which must lie within the file.
func (f *datFile) readAt(off, n int64, what string) ([]byte, error) {
	if off < 0 || off > f.size {
		return nil, f.truncf(off, "expected %s at offset %d, but the file is %d bytes long", what, off, f.size)
	}
	if n < 0 || n > f.size-off {
		return nil, f.truncf(off, "expected %d bytes of %s, but the file ends %d bytes later", n, what, f.size-off)
	}
	buf := make([]byte, n)
	if _, err := f.ra.ReadAt(buf, off); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		if errors.Is(err, io.EOF) {
			return nil, f.truncf(off, "expected %d bytes of %s: %v", n, what, err)
		}
		return nil, &Error{File: f.name, Offset: off, Msg: "reading " + what, Err: err}
	}
	return buf, nil
}

// cursor reads numbers and strings in the file's byte order, either from a
// byte slice (a decompressed or pre-read section) or straight from the file.
// Every length is checked against what is left, so a corrupt count can
// neither panic nor allocate more than the input holds.
type cursor struct {
	f     *datFile
	order binary.ByteOrder
	mem   []byte // section contents; nil for a cursor on the file
	p     int64  // position in mem, or absolute file offset
	base  int64  // file offset of mem[0], or -1 when mem was decompressed
	sec   int64  // file offset of the section, for errors in decompressed data
	what  string // section name, for errors in decompressed data
}

func (f *datFile) fileCursor(off int64) *cursor {
	return &cursor{f: f, order: f.order, p: off, base: -1}
}

func (f *datFile) memCursor(mem []byte, base, sec int64, what string) *cursor {
	return &cursor{f: f, order: f.order, mem: mem, base: base, sec: sec, what: what}
}

// off returns the file offset of the cursor, or of its section when the
// section was decompressed.
func (c *cursor) off() int64 {
	switch {
	case c.mem == nil:
		return c.p
	case c.base >= 0:
		return c.base + c.p
	}
	return c.sec
}

func (c *cursor) left() int64 {
	if c.mem == nil {
		return c.f.size - c.p
	}
	return int64(len(c.mem)) - c.p
}

// errf returns a positioned error at the cursor.
func (c *cursor) errf(trunc bool, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if c.mem != nil && c.base < 0 {
		msg = fmt.Sprintf("in the decompressed %s section, at byte %d: %s", c.what, c.p, msg)
	}
	e := &Error{File: c.f.name, Offset: c.off(), Msg: msg}
	if trunc {
		e.Err = ErrTruncated
	}
	return e
}

// bytes returns the next n bytes. For a file cursor they are a fresh copy;
// for a memory cursor they alias the section.
func (c *cursor) bytes(n int, what string) ([]byte, error) {
	if n < 0 || int64(n) > c.left() {
		where := "the file"
		if c.mem != nil {
			where = "the " + c.what + " section"
		}
		return nil, c.errf(true, "expected %d bytes of %s, but %s ends %d bytes later", n, what, where, c.left())
	}
	if c.mem != nil {
		b := c.mem[c.p : c.p+int64(n)]
		c.p += int64(n)
		return b, nil
	}
	b, err := c.f.readAt(c.p, int64(n), what)
	if err != nil {
		return nil, err
	}
	c.p += int64(n)
	return b, nil
}

func (c *cursor) u16(what string) (uint16, error) {
	b, err := c.bytes(2, what)
	if err != nil {
		return 0, err
	}
	return c.order.Uint16(b), nil
}

func (c *cursor) u32(what string) (uint32, error) {
	b, err := c.bytes(4, what)
	if err != nil {
		return 0, err
	}
	return c.order.Uint32(b), nil
}

func (c *cursor) u64(what string) (uint64, error) {
	b, err := c.bytes(8, what)
	if err != nil {
		return 0, err
	}
	return c.order.Uint64(b), nil
}

// cstring reads a NUL-terminated string of at most max bytes.
func (c *cursor) cstring(max int, what string) (string, error) {
	n := int64(max + 1)
	if n > c.left() {
		n = c.left()
	}
	var look []byte
	if c.mem != nil {
		look = c.mem[c.p : c.p+n]
	} else {
		var err error
		if look, err = c.f.readAt(c.p, n, what); err != nil {
			return "", err
		}
	}
	i := bytes.IndexByte(look, 0)
	if i < 0 {
		if n <= int64(max) {
			return "", c.errf(true, "expected %s ending in a NUL byte before the end", what)
		}
		return "", c.errf(false, "expected %s of at most %d bytes ending in a NUL byte", what, max)
	}
	c.p += int64(i + 1)
	return string(look[:i]), nil
}
