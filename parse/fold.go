package parse

import (
	"bufio"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Folded returns t as folded stacks: each distinct root-first call path,
// frames joined by ";", with its weight. A stack sample weighs its count;
// a call of a function_graph trace weighs one at the path that ends with
// it, so the weights sum to the trace's calls. Events are left out. Frames
// are the normalised names; characters that would break the format (";",
// newlines, control codes) are replaced. With withTask, each path starts
// with its task's label ("comm-pid"), as FlameGraph's --pid option does.
func Folded(t *Trace, withTask bool) map[string]int64 {
	out := map[string]int64{}
	var sb strings.Builder
	frame := func(n NodeID) string { return foldFrame(t.Names.String(t.KeyOf(n))) }
	if len(t.Samples) > 0 {
		for _, s := range t.Samples {
			sb.Reset()
			if withTask {
				sb.WriteString(foldFrame(t.Tasks[s.Task].Label()))
				sb.WriteByte(';')
			}
			for n, first := s.Root, true; ; n = t.Nodes[n].FirstChild {
				if !first {
					sb.WriteByte(';')
				}
				first = false
				sb.WriteString(frame(n))
				if n == s.Leaf || t.Nodes[n].FirstChild == None {
					break
				}
			}
			out[sb.String()] += s.Count
		}
		return out
	}
	type item struct {
		n      NodeID
		prefix string
	}
	var stack []item
	for ti := range t.Tasks {
		base := ""
		if withTask {
			base = foldFrame(t.Tasks[ti].Label())
		}
		for r := t.Tasks[ti].First; r != None; r = t.Nodes[r].NextSibling {
			stack = append(stack[:0], item{r, base})
			for len(stack) > 0 {
				it := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if t.Nodes[it.n].Flags&(FlagEvent|FlagFrame) != 0 {
					continue
				}
				p := frame(it.n)
				if it.prefix != "" {
					p = it.prefix + ";" + p
				}
				out[p]++
				for c := t.Nodes[it.n].FirstChild; c != None; c = t.Nodes[c].NextSibling {
					stack = append(stack, item{c, p})
				}
			}
		}
	}
	return out
}

// foldFrame makes a name safe as a frame of a folded line.
func foldFrame(s string) string {
	s = Safe(s)
	return strings.Map(func(r rune) rune {
		switch r {
		case ';':
			return ':'
		case ' ', '\t':
			return '_'
		}
		return r
	}, s)
}

// WriteFolded writes t as folded stacks ("root;child;leaf count"), sorted,
// the input format of FlameGraph's flamegraph.pl, inferno and speedscope.
func WriteFolded(w io.Writer, t *Trace) error {
	m := Folded(t, false)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	bw := bufio.NewWriter(w)
	for _, k := range keys {
		bw.WriteString(k)
		bw.WriteByte(' ')
		bw.WriteString(strconv.FormatInt(m[k], 10))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
