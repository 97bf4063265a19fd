package parse

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
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
	// After bpftrace, which a tie goes to: bcc scores only with signs of
	// a bcc tool (banner, "- comm (pid)" lines, trace's header).
	{FormatBCC, scoreBCC, parseBCC},
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
// bytes. size is the file's size on disk, times a guess of the
// compression ratio for a compressed file, or -1.
func Open(path string) (r io.ReadCloser, size int64, err error) {
	r, in, err := open(path)
	if err != nil {
		return nil, -1, err
	}
	size = in.disk
	if in.compressed && size > 0 {
		size *= compressionGuess
	}
	return r, size, nil
}

// compressionGuess is how many times larger than its compressed file a
// trace's text is assumed to be until the ratio can be measured: gzip
// shrinks function_graph text about 8 times, zstd and xz 15 to 25 times.
// The ratio is measured as soon as the decompressor has read enough (see
// [inputSize.total]).
const compressionGuess = 16

// open is Open with what the node slice is sized from.
func open(path string) (io.ReadCloser, *inputSize, error) {
	var f *os.File
	in := &inputSize{disk: -1}
	if path == "-" {
		f = os.Stdin
	} else {
		var err error
		f, err = os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			in.disk = st.Size()
		}
	}
	in.raw = &countReader{r: f}
	dr, br, compressed, err := decompress(in.raw, bufSize(in.disk))
	if err != nil {
		f.Close()
		return nil, nil, &Error{File: path, Offset: 0, Msg: "reading compressed input", Err: err}
	}
	in.compressed, in.rawBuf = compressed, br
	if compressed {
		in.text = &countReader{r: dr}
		dr = in.text
	}
	return readCloser{dr, f}, in, nil
}

// inputSize follows how much of an input has been read and how large it
// is, so that the Builder can size its node slice once rather than grow
// it by copies. Capacity beyond the truth costs address space rather than
// resident memory (the runtime takes a large slice from fresh, zeroed
// pages, and a page untouched is not resident), but the collector counts
// it towards its goal: estimates aim a little above the truth.
type inputSize struct {
	disk       int64        // bytes on disk, or -1 when unknown
	compressed bool         // the text is decompressed from the bytes on disk
	raw        *countReader // bytes read from disk
	rawBuf     *bufio.Reader
	text       *countReader // decompressed bytes (compressed input only)
}

// total estimates the bytes of text in the whole input, or -1. For
// compressed input it is the size on disk times the ratio seen so far
// (compressionGuess at first).
func (in *inputSize) total() int64 {
	if in == nil || in.disk <= 0 {
		return -1
	}
	if !in.compressed {
		return in.disk
	}
	used := in.raw.n - int64(in.rawBuf.Buffered()) // by the decompressor
	if used <= 0 || used < 16<<10 && in.raw.n < in.disk || in.text.n == 0 {
		return in.disk * compressionGuess
	}
	return int64(float64(in.disk) * float64(in.text.n) / float64(used))
}

// done returns the bytes of text read so far (a buffer ahead of the
// parser).
func (in *inputSize) done() int64 {
	if in == nil {
		return 0
	}
	if in.compressed {
		return in.text.n
	}
	return in.raw.n
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type readCloser struct {
	io.Reader
	c io.Closer
}

func (r readCloser) Close() error { return r.c.Close() }

// Decompress returns a reader of r's content, decompressing gzip, zstd or
// xz when r starts with their magic bytes. compressed says whether it did.
func Decompress(r io.Reader) (out io.Reader, compressed bool, err error) {
	out, _, compressed, err = decompress(r, 1<<20)
	return out, compressed, err
}

// bufSize is the size of the buffer reading an input of size bytes on
// disk (-1: unknown): 1 MiB, or less for a small uncompressed input, whose
// whole text it then holds.
func bufSize(size int64) int {
	if size < 0 || size >= 1<<20 {
		return 1 << 20
	}
	return max(int(size)+1, headSize)
}

// decompress is Decompress with a buffer of size bytes, which it also
// returns.
func decompress(r io.Reader, size int) (out io.Reader, br *bufio.Reader, compressed bool, err error) {
	br = bufio.NewReaderSize(r, size)
	magic, _ := br.Peek(6)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, br, true, fmt.Errorf("gzip: %w", err)
		}
		return zr, br, true, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, br, true, fmt.Errorf("zstd: %w", err)
		}
		return zr.IOReadCloser(), br, true, nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		zr, err := xz.NewReader(br)
		if err != nil {
			return nil, br, true, fmt.Errorf("xz: %w", err)
		}
		return zr, br, true, nil
	}
	return br, br, false, nil
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
	r, in, err := open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return parseSized(path, r, in)
}

// Parse reads a capture from r; name is used in errors and as Trace.Path.
// Compressed input is decompressed.
func Parse(name string, r io.Reader) (*Trace, error) {
	in := &inputSize{disk: -1}
	if l, ok := r.(interface{ Len() int }); ok {
		// In-memory input (bytes.Reader, strings.Reader, bytes.Buffer)
		// says how much is left.
		in.disk = int64(l.Len())
	}
	in.raw = &countReader{r: r}
	dr, br, compressed, err := decompress(in.raw, bufSize(in.disk))
	if err != nil {
		return nil, &Error{File: name, Offset: 0, Msg: "reading compressed input", Err: err}
	}
	if in.compressed, in.rawBuf = compressed, br; compressed {
		in.text = &countReader{r: dr}
		dr = in.text
	}
	return parseSized(name, dr, in)
}

// parseSized reads a decompressed input r, whose size in is followed to
// size the node slice (in may be nil).
func parseSized(name string, r io.Reader, in *inputSize) (t *Trace, err error) {
	if rc, ok := r.(readCloser); ok {
		r = rc.Reader
	}
	// An uncompressed input is decompress's bufio.Reader, read as is: the
	// text is not copied twice.
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < headSize {
		br = bufio.NewReaderSize(r, 1<<20)
	}
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
	var b *Builder
	switch f {
	case FormatTraceCmd, FormatFtrace:
		b = NewBuilder(name, f, -1)
		b.size = in
		sample, _ := br.Peek(br.Size())
		b.reserve(estimateNodes(sample, br.Size(), in.total()))
	default:
		b = NewBuilder(name, f, in.total())
	}
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

// estimateNodes estimates the nodes a function_graph input of total bytes
// (-1: unknown) makes, from the lines of sample, its first bytes (all of
// it when sample is shorter than full): one per line, except lines that
// only close a call (a "}" after the last "|"). On the large corpus report
// a 1 MiB sample is 7% above the truth; a sixteenth more is added, as an
// estimate short of the truth costs a copy of the nodes.
func estimateNodes(sample []byte, full int, total int64) int64 {
	var lines int64
	for rest := sample; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		if bar := bytes.LastIndexByte(line, '|'); bar < 0 || !bytes.HasPrefix(trimLeft(line[bar+1:]), []byte("}")) {
			lines++
		}
	}
	if len(sample) < full {
		return lines // the whole input
	}
	if total <= 0 || len(sample) == 0 {
		return 0
	}
	n := int64(float64(total) / float64(len(sample)) * float64(lines))
	return n + n/16
}

// describeUnknown says what an unrecognised input holds.
func describeUnknown(head []byte) string {
	switch {
	case len(bytes.TrimSpace(head)) == 0:
		return "empty input: expected a function_graph trace, a trace.dat file, bpftrace or bcc stacks, perf script or folded stacks"
	case !looksText(head):
		n := len(head)
		if n > 8 {
			n = 8
		}
		return fmt.Sprintf("binary data (starts % x), not a trace.dat file: expected a function_graph trace, bpftrace or bcc stacks, perf script or folded stacks", head[:n])
	}
	line := head
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	if len(line) > 60 {
		line = append(line[:60:60], "..."...)
	}
	if hint := otherTracer(head); hint != "" {
		return fmt.Sprintf("%s (first line %q)", hint, line)
	}
	return fmt.Sprintf("no function_graph, stack or trace.dat content found (first line %q)", line)
}

var (
	tracerHeader = regexp.MustCompile(`(?m)^# tracer: (\S+)`)
	// "comm-pid [cpu] [flags] 123.456789: event:" of trace-cmd report and
	// ftrace's trace file.
	eventLine = regexp.MustCompile(`(?m)^\s*\S.*-\d+\s+\[\d+\]\s+(?:\S+\s+)?\d+\.\d+:\s+(\w+):`)
	// "comm-pid [cpu] [flags] 123.456789: func <-caller" of the function tracer.
	functionLine = regexp.MustCompile(`(?m)^\s*\S.*-\d+\s+\[\d+\]\s+(?:\S+\s+)?\d+\.\d+:\s+\S+\s+<-\S+`)
)

// otherTracer recognises the outputs of tracers other than function_graph
// and of trace-cmd without function_graph events, to say what was found
// and how to record something tracediff reads. It runs only on input that
// nothing else recognised, so regular expressions are fine here.
func otherTracer(head []byte) string {
	const how = "record with the function_graph tracer (trace-cmd record -p function_graph, or echo function_graph > current_tracer)"
	if m := tracerHeader.FindSubmatch(head); m != nil && string(m[1]) != "function_graph" {
		return fmt.Sprintf("ftrace output of the %q tracer, which records no call trees: %s", m[1], how)
	}
	if bytes.HasPrefix(bytes.TrimSpace(head), []byte("# trace-cmd profile")) {
		return "trace-cmd profile output is not read: " + how + " and compare the reports"
	}
	if functionLine.Match(head) {
		return "output of the function tracer (func <-caller), which records no call trees: " + how
	}
	if m := eventLine.FindSubmatch(head); m != nil {
		return fmt.Sprintf("trace events (%s) but no function_graph entries or exits: %s", m[1], how)
	}
	return ""
}
