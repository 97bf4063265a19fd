package diff

import (
	"bufio"
	"io"
	"slices"
	"strconv"

	"github.com/tracediff/tracediff/parse"
)

// foldedPair is the differential folded form of two captures: every call
// path of either side once, sorted, with its weight on each side.
type foldedPair struct {
	Paths     []string
	Good, Bad []int64
}

// foldPair folds both captures of r with [parse.Folded] (without task
// prefixes, so that the same code path in differently named tasks lines
// up) and merges the two maps. It reads the traces, not the alignment: a
// flame graph compares weights per call path, whatever was matched.
func foldPair(r *Result) foldedPair {
	g := parse.Folded(r.Good, false)
	b := parse.Folded(r.Bad, false)
	paths := make([]string, 0, len(g)+len(b))
	for p := range g {
		paths = append(paths, p)
	}
	for p := range b {
		if _, ok := g[p]; !ok {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	fp := foldedPair{Paths: paths, Good: make([]int64, len(paths)), Bad: make([]int64, len(paths))}
	for i, p := range paths {
		fp.Good[i], fp.Bad[i] = g[p], b[p]
	}
	return fp
}

// renderFolded writes differential folded stacks, one line per call path:
// "frame;frame;frame count_good count_bad", the input of FlameGraph's
// difffolded.pl output format (flamegraph.pl draws it as a differential
// flame graph) and of inferno-flamegraph. Lines are sorted by path; a path
// seen on one side only has 0 on the other. Frames are the normalised
// names, made safe by parse.Folded (no ";", spaces or control codes).
func renderFolded(w io.Writer, r *Result, _ RenderOptions) error {
	fp := foldPair(r)
	bw := bufio.NewWriter(w)
	var buf []byte
	for i, p := range fp.Paths {
		buf = append(buf[:0], p...)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, fp.Good[i], 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, fp.Bad[i], 10)
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	return bw.Flush()
}
