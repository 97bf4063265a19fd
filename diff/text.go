package diff

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/tracediff/tracediff/parse"
)

// textStyles colours the text output; zero styles when colour is off.
type textStyles struct {
	good, bad, changed, head, dim lipgloss.Style
}

func newTextStyles(color bool) textStyles {
	if !color {
		return textStyles{}
	}
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.ANSI)
	return textStyles{
		good:    r.NewStyle().Foreground(lipgloss.Color("1")),
		bad:     r.NewStyle().Foreground(lipgloss.Color("2")),
		changed: r.NewStyle().Foreground(lipgloss.Color("3")),
		head:    r.NewStyle().Bold(true),
		dim:     r.NewStyle().Faint(true),
	}
}

// renderText writes the divergences first, strongest first, each with its
// path and both sides, then the aligned tree around the top ones.
func renderText(w io.Writer, r *Result, opts RenderOptions) error {
	bw := bufio.NewWriter(w)
	st := newTextStyles(opts.Color)
	s := parse.Safe
	fmt.Fprintf(bw, "%s\n", st.head.Render(fmt.Sprintf("tracediff: %s (good) vs %s (bad): %s", s(r.Good.Path), s(r.Bad.Path), r.Stats())))
	if len(r.Divergences) == 0 {
		fmt.Fprintf(bw, "no divergence: %d task %s compared\n", len(r.Pairs), plural(len(r.Pairs), "pair", "pairs"))
	}
	for i := range r.Divergences {
		d := &r.Divergences[i]
		writeDivergence(bw, r, d, st)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(bw, "%s\n", st.dim.Render("note: "+s(n)))
	}
	for _, t := range []*parse.Trace{r.Good, r.Bad} {
		for _, wn := range t.Warnings {
			fmt.Fprintf(bw, "%s\n", st.dim.Render("warning: "+s(wn.Error())))
		}
	}
	n := opts.Trees
	if n < 0 || n > len(r.Divergences) {
		n = len(r.Divergences)
	}
	for i := 0; i < n; i++ {
		d := &r.Divergences[i]
		fmt.Fprintf(bw, "\n%s\n", st.head.Render(fmt.Sprintf("── %s %s ──", d.ID, d.Kind)))
		writeContext(bw, r, d, opts.Context, st)
	}
	return bw.Flush()
}

// writeDivergence writes one divergence in a few lines: id, kind and
// summary; the path; each side's callees with their source lines.
func writeDivergence(w *bufio.Writer, r *Result, d *Divergence, st textStyles) {
	s := parse.Safe
	tag := ""
	if d.Inconclusive {
		tag = " (inconclusive: " + d.Why + ")"
	} else if d.Noise {
		tag = " (noise: " + d.Why + ")"
	}
	fmt.Fprintf(w, "%s %s: %s%s\n", st.head.Render(d.ID), d.Kind, s(d.Summary), tag)
	fmt.Fprintf(w, "   at %s\n", s(strings.Join(d.Path, " > ")))
	side := func(label string, cs []Callee, t *parse.Trace, sty lipgloss.Style) {
		if len(cs) == 0 {
			return
		}
		var parts []string
		for i, c := range cs {
			if i == maxCallees {
				parts = append(parts, fmt.Sprintf("(+%d more)", len(cs)-maxCallees))
				break
			}
			p := s(c.Name) + c.countDur()
			if c.Line > 0 {
				p += fmt.Sprintf(" (%s:%d)", s(t.Path), c.Line)
			}
			parts = append(parts, p)
		}
		fmt.Fprintf(w, "   %s\n", sty.Render(label+strings.Join(parts, ", ")))
	}
	side("good -> ", d.Good, r.Good, st.good)
	side("bad  -> ", d.Bad, r.Bad, st.bad)
	if d.Detail != "" {
		fmt.Fprintf(w, "   %s\n", s(d.Detail))
	}
}

// maxCallees is how many callees of one side a divergence lists in text.
const maxCallees = 4

// writeContext writes the aligned tree around d: its ancestors, then the
// children of its row with matched siblings away from the change elided,
// one-sided subtrees shown a few levels deep.
func writeContext(w *bufio.Writer, r *Result, d *Divergence, context int, st textStyles) {
	path := []int32{}
	for n := d.Row; n != None; n = r.Rows[n].Parent {
		path = append(path, n)
	}
	for i := len(path) - 1; i >= 1; i-- {
		writeRow(w, r, path[i], st)
	}
	writeRow(w, r, d.Row, st)
	var kids []int32
	r.Children(d.Row, func(c int32) { kids = append(kids, c) })
	show := make([]bool, len(kids))
	for i, k := range kids {
		if r.Rows[k].Op != OpSame {
			for j := max(0, i-context); j <= min(len(kids)-1, i+context); j++ {
				show[j] = true
			}
		}
	}
	hidden, hiddenCalls := 0, 0
	flushHidden := func(depth int32) {
		if hidden > 0 {
			fmt.Fprintf(w, "  %s%s\n", strings.Repeat("  ", int(depth)), st.dim.Render(fmt.Sprintf("... %d identical %s", hiddenCalls, plural(hiddenCalls, "call", "calls"))))
		}
		hidden, hiddenCalls = 0, 0
	}
	for i, k := range kids {
		if !show[i] {
			hidden++
			hiddenCalls += int(r.Rows[k].Size)
			continue
		}
		flushHidden(r.Rows[k].Depth)
		writeRow(w, r, k, st)
		if op := r.Rows[k].Op; op == OpGoodOnly || op == OpBadOnly {
			writeSubtree(w, r, k, 2, st)
		}
	}
	if len(kids) > 0 {
		flushHidden(r.Rows[kids[0]].Depth)
	}
}

// writeSubtree writes the rows below id down to levels more levels,
// summarising what is deeper.
func writeSubtree(w *bufio.Writer, r *Result, id int32, levels int, st textStyles) {
	if levels == 0 {
		if sz := r.Rows[id].Size - 1; sz > 0 {
			fmt.Fprintf(w, "  %s%s\n", strings.Repeat("  ", int(r.Rows[id].Depth)+1), st.dim.Render(fmt.Sprintf("... %d more %s", sz, plural(int(sz), "call", "calls"))))
		}
		return
	}
	r.Children(id, func(c int32) {
		writeRow(w, r, c, st)
		writeSubtree(w, r, c, levels-1, st)
	})
}

// writeRow writes one row: marker, indented name with run lengths, and
// both sides' durations.
func writeRow(w *bufio.Writer, r *Result, id int32, st textStyles) {
	row := &r.Rows[id]
	name := parse.Safe(r.RowName(id))
	if row.Depth == 0 {
		name = "task " + name
	}
	switch {
	case row.Op == OpGoodOnly && row.GoodN > 1:
		name += fmt.Sprintf(" x%d", row.GoodN)
	case row.Op == OpBadOnly && row.BadN > 1:
		name += fmt.Sprintf(" x%d", row.BadN)
	case row.Op <= OpChanged && row.Depth > 0 && (row.GoodN > 1 || row.BadN > 1):
		if row.GoodN == row.BadN {
			name += fmt.Sprintf(" x%d", row.GoodN)
		} else {
			name += fmt.Sprintf(" x%d|x%d", row.GoodN, row.BadN)
		}
	}
	line := fmt.Sprintf("%c %s%-*s %12s %12s", row.Op.Marker(), strings.Repeat("  ", int(row.Depth)), max(1, 48-2*int(row.Depth)), name,
		durCol(row.GoodDur, row.Good == -1 && row.Depth > 0), durCol(row.BadDur, row.Bad == -1 && row.Depth > 0))
	line = strings.TrimRight(line, " ")
	switch row.Op {
	case OpGoodOnly:
		line = st.good.Render(line)
	case OpBadOnly:
		line = st.bad.Render(line)
	case OpChanged:
		line = st.changed.Render(line)
	}
	w.WriteString(line)
	w.WriteByte('\n')
}

func durCol(ns int64, absent bool) string {
	if absent {
		return ""
	}
	if ns < 0 {
		return "-"
	}
	return parse.FormatDuration(ns)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
