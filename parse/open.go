package parse

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// headSize is how much of the (decompressed) input Detect looks at.
const headSize = 64 << 10

// format ties a Format to its detector and parser.
type format struct {
	f Format
	// score rates how well head looks like the format: 0 is not at all.
	score func(head []byte) int
	// parse reads the whole input into b.
	parse func(b *Builder, r *bufio.Reader) error
}

// formats lists every format Detect chooses from. trace.dat is recognised
// by its magic bytes before scoring.
var formats = [...]format{
	{FormatTraceCmd, scoreTraceCmd, parseTraceCmd},
	{FormatFtrace, scoreFtrace, parseFtrace},
	{FormatBpftraceJSON, scoreBpftraceJSON, parseBpftraceJSON},
	{FormatBpftrace, scoreBpftrace, parseBpftrace},
	{FormatPerfScript, scorePerfScript, parsePerfScript},
	{FormatFolded, scoreFolded, parseFolded},
}

// traceDatMagic opens every trace.dat file.
var traceDatMagic = []byte("\x17\x08\x44tracing")

// Detect returns the format of an input whose first bytes (up to 64 KiB,
// decompressed) are head, or FormatUnknown.
func Detect(head []byte) Format {
	if bytes.HasPrefix(head, traceDatMagic) {
		return FormatTraceDat
	}
	if !looksText(head) {
		return FormatUnknown
	}
	best, bestScore := FormatUnknown, 0
	for _, f := range formats {
		if s := f.score(head); s > bestScore {
			best, bestScore = f.f, s
		}
	}
	return best
}

// looksText reports whether head is text: valid UTF-8 (a cut rune at the end
// aside) with no NUL bytes.
func looksText(head []byte) bool {
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	if len(head) > 4 {
		// Tolerate a rune cut by the head's end.
		head = head[:len(head)-3]
	}
	return utf8.Valid(head)
}

// Open opens path ("-" for standard input) and returns a reader of its
// decompressed content. gzip, zstd and xz are recognised by their magic
// bytes. size is the file's size on disk, or -1.
func Open(path string) (r io.ReadCloser, size int64, err error) {
	var f *os.File
	size = -1
	if path == "-" {
		f = os.Stdin
	} else {
		f, err = os.Open(path)
		if err != nil {
			return nil, -1, err
		}
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
	}
	dr, compressed, err := Decompress(f)
	if err != nil {
		f.Close()
		return nil, -1, &Error{File: path, Offset: 0, Msg: "reading compressed input", Err: err}
	}
	if compressed {
		size *= 6 // a guess for sizing; compressed traces shrink about that much
	}
	return readCloser{dr, f}, size, nil
}

type readCloser struct {
	io.Reader
	c io.Closer
}

func (r readCloser) Close() error { return r.c.Close() }

// Decompress returns a reader of r's content, decompressing gzip, zstd or
// xz when r starts with their magic bytes. compressed says whether it did.
func Decompress(r io.Reader) (out io.Reader, compressed bool, err error) {
	br := bufio.NewReaderSize(r, 1<<20)
	magic, _ := br.Peek(6)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, true, fmt.Errorf("gzip: %w", err)
		}
		return zr, true, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, true, fmt.Errorf("zstd: %w", err)
		}
		return zr.IOReadCloser(), true, nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		zr, err := xz.NewReader(br)
		if err != nil {
			return nil, true, fmt.Errorf("xz: %w", err)
		}
		return zr, true, nil
	}
	return br, false, nil
}

// ParseFile reads the capture at path ("-" for standard input), detecting
// its format and decompressing it as needed.
func ParseFile(path string) (*Trace, error) {
	if path != "-" {
		// A trace.dat file is read through its section offsets, so that
		// memory follows the model and not the file.
		if f, err := os.Open(path); err == nil {
			var magic [10]byte
			n, _ := io.ReadFull(f, magic[:])
			st, serr := f.Stat()
			if serr == nil && st.Mode().IsRegular() && bytes.HasPrefix(magic[:n], traceDatMagic) {
				defer f.Close()
				return ParseTraceDat(path, f, st.Size())
			}
			f.Close()
		}
	}
	r, size, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return parseSized(path, r, size)
}

// Parse reads a capture from r; name is used in errors and as Trace.Path.
// Compressed input is decompressed.
func Parse(name string, r io.Reader) (*Trace, error) {
	dr, _, err := Decompress(r)
	if err != nil {
		return nil, &Error{File: name, Offset: 0, Msg: "reading compressed input", Err: err}
	}
	return parseSized(name, dr, -1)
}

func parseSized(name string, r io.Reader, size int64) (t *Trace, err error) {
	br := bufio.NewReaderSize(r, 1<<20)
	head, perr := br.Peek(headSize)
	if perr != nil && !errors.Is(perr, io.EOF) && !errors.Is(perr, bufio.ErrBufferFull) {
		return nil, &Error{File: name, Offset: int64(len(head)), Msg: "reading input", Err: perr}
	}
	f := Detect(head)
	if f == FormatUnknown {
		return nil, &Error{File: name, Offset: -1, Msg: describeUnknown(head), Err: ErrUnknownFormat}
	}
	defer func() {
		// A parser bug must not take the program down: report it as an
		// error at the input instead.
		if p := recover(); p != nil {
			t, err = nil, &Error{File: name, Offset: -1, Msg: fmt.Sprintf("internal error reading %s input: %v", f, p)}
		}
	}()
	b := NewBuilder(name, f, size)
	if f == FormatTraceDat {
		err = parseTraceDat(b, br)
	} else {
		for _, ff := range formats {
			if ff.f == f {
				err = ff.parse(b, br)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	t = b.t
	if t.Calls() == 0 && len(t.Samples) == 0 && len(t.Nodes) == 0 {
		return nil, &Error{File: name, Offset: -1, Msg: fmt.Sprintf("looks like %s output but holds no call or stack", f), Err: ErrUnknownFormat}
	}
	return t, nil
}

// describeUnknown says what an unrecognised input holds.
func describeUnknown(head []byte) string {
	switch {
	case len(bytes.TrimSpace(head)) == 0:
		return "empty input: expected a function_graph trace, a trace.dat file, bpftrace stacks, perf script or folded stacks"
	case !looksText(head):
		n := len(head)
		if n > 8 {
			n = 8
		}
		return fmt.Sprintf("binary data (starts % x), not a trace.dat file: expected a function_graph trace, bpftrace stacks, perf script or folded stacks", head[:n])
	}
	line := head
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	if len(line) > 60 {
		line = append(line[:60:60], "..."...)
	}
	return fmt.Sprintf("no function_graph, stack or trace.dat content found (first line %q)", line)
}
