package tui

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/tracediff/tracediff/diff"
	"github.com/tracediff/tracediff/parse"
)

// detailsHeight is the number of lines of the details panel.
const detailsHeight = 3

// details is the child model of the panel under the tree: what each side
// recorded of the call under the cursor.
type details struct {
	st    *Styles
	width int
	res   *diff.Result
	row   int32
}

// SetSize sets the panel's width; its height is fixed.
func (d *details) SetSize(w int) { d.width = w }

// View draws the panel: one line per side, then the divergence at the row
// or its path.
func (d *details) View() string {
	lines := make([]string, detailsHeight)
	if d.res != nil && d.row != diff.None {
		row := &d.res.Rows[d.row]
		lines[0] = "good " + d.sideText(d.res.Good, row.Good, row.GoodN, row.GoodDur, row.Op != diff.OpBadOnly)
		lines[1] = "bad  " + d.sideText(d.res.Bad, row.Bad, row.BadN, row.BadDur, row.Op != diff.OpGoodOnly)
		if row.Div != diff.None {
			dv := &d.res.Divergences[row.Div]
			lines[2] = dv.ID + " " + kindText(dv) + ": " + parse.Safe(dv.Summary)
		} else {
			lines[2] = "at " + parse.Safe(strings.Join(d.res.PathOf(d.row), " > "))
		}
	}
	for i, l := range lines {
		lines[i] = d.st.Dim.Inline(true).Render(pad(ansi.Truncate(l, d.width, "…"), d.width))
	}
	return strings.Join(lines, "\n")
}

// sideText describes one side's call: name, count, duration, CPU, source
// line, return value and flags.
func (d *details) sideText(t *parse.Trace, n parse.NodeID, count, dur int64, present bool) string {
	if !present {
		return "—"
	}
	if n == parse.None {
		return fmt.Sprintf("x%d calls", count)
	}
	node := &t.Nodes[n]
	parts := []string{parse.Safe(t.NameOf(n))}
	if count > 1 {
		parts = append(parts, "x"+strconv.FormatInt(count, 10))
	}
	parts = append(parts, parse.FormatDuration(dur))
	if node.CPU >= 0 {
		parts = append(parts, "cpu"+strconv.Itoa(int(node.CPU)))
	}
	if node.Line > 0 {
		parts = append(parts, parse.Safe(filepath.Base(t.Path))+":"+strconv.Itoa(int(node.Line)))
	}
	if r, ok := t.Rets[n]; ok {
		parts = append(parts, "ret="+parse.Safe(r))
	}
	if f := flagText(node.Flags); f != "" {
		parts = append(parts, "["+f+"]")
	}
	return strings.Join(parts, "  ")
}

func flagText(f parse.Flags) string {
	var s []string
	for _, x := range []struct {
		f    parse.Flags
		name string
	}{{parse.FlagIRQ, "irq"}, {parse.FlagOrphan, "orphan"}, {parse.FlagUnclosed, "unclosed"}, {parse.FlagLost, "lost"}, {parse.FlagEvent, "event"}} {
		if f&x.f != 0 {
			s = append(s, x.name)
		}
	}
	return strings.Join(s, ",")
}

// kindText names a divergence's kind, saying when it is inconclusive or
// noise.
func kindText(d *diff.Divergence) string {
	switch {
	case d.Inconclusive:
		return "inconclusive " + d.Kind.String()
	case d.Noise:
		return "noise " + d.Kind.String()
	}
	return d.Kind.String()
}
