package tui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/tracediff/tracediff/diff"
	"github.com/tracediff/tracediff/parse"
)

// side selects what a pane shows of a row.
type side uint8

const (
	sideGood side = iota // the good capture's call (left pane)
	sideBad              // the bad capture's call (right pane)
	sideBoth             // both, in the unified pane
)

// treeView is the child model that draws the aligned tree: one pane per
// side, or one unified pane. It draws only the lines on screen.
type treeView struct {
	ix             *index
	st             *Styles
	cursor, offset int
	width, height  int
	durations, raw bool
	badSide        bool             // the cursor refers to the right pane's call in a band
	match          func(int32) bool // rows to highlight (search), or nil
}

// SetSize sets the size of the tree area.
func (t *treeView) SetSize(w, h int) {
	t.width, t.height = max(w, 1), max(h, 1)
	t.scroll(false)
}

// Row returns the row under the cursor, or diff.None.
func (t *treeView) Row() int32 {
	if t.cursor < 0 || t.cursor >= len(t.ix.lines) {
		return diff.None
	}
	return t.ix.lines[t.cursor].row(t.badSide)
}

// Line returns the line under the cursor.
func (t *treeView) Line() line {
	if t.cursor < 0 || t.cursor >= len(t.ix.lines) {
		return line{g: diff.None, b: diff.None}
	}
	return t.ix.lines[t.cursor]
}

// move moves the cursor by delta lines, keeping it on screen.
func (t *treeView) move(delta int) {
	t.cursor = min(max(t.cursor+delta, 0), len(t.ix.lines)-1)
	t.scroll(false)
}

// wheel scrolls the view by delta lines, dragging the cursor along when it
// would leave the screen.
func (t *treeView) wheel(delta int) {
	t.offset = min(max(t.offset+delta, 0), max(len(t.ix.lines)-t.height, 0))
	t.cursor = min(max(t.cursor, t.offset), t.offset+t.height-1, len(t.ix.lines)-1)
}

// scroll brings the cursor on screen. After a jump, the cursor is put a
// quarter down the screen so that what follows it is in view.
func (t *treeView) scroll(jump bool) {
	n := len(t.ix.lines)
	if jump && (t.cursor < t.offset || t.cursor >= t.offset+t.height) || jump && t.cursor >= t.offset+t.height*3/4 {
		t.offset = t.cursor - t.height/4
	}
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+t.height {
		t.offset = t.cursor - t.height + 1
	}
	t.offset = max(min(t.offset, n-t.height), 0)
}

// relist rebuilds the index and puts the cursor back on row r, or on its
// nearest listed ancestor.
func (t *treeView) relist(r int32, jump bool) {
	t.ix.rebuild()
	t.goTo(r, jump)
}

// goTo puts the cursor on the line of row r (or of its nearest listed
// ancestor).
func (t *treeView) goTo(r int32, jump bool) {
	rows := t.ix.res.Rows
	for a := r; a != diff.None; a = rows[a].Parent {
		if i := t.ix.find(a); i >= 0 {
			t.cursor = i
			if l := t.ix.lines[i]; l.g != l.b {
				t.badSide = l.b == a
			}
			t.scroll(jump)
			return
		}
	}
	t.cursor = 0
	t.scroll(jump)
}

// View draws the lines on screen.
func (t *treeView) View() string {
	var sb strings.Builder
	for i := t.offset; i < t.offset+t.height; i++ {
		if i > t.offset {
			sb.WriteByte('\n')
		}
		if i >= len(t.ix.lines) {
			sb.WriteString(strings.Repeat(" ", t.width))
			continue
		}
		sb.WriteString(t.drawLine(i))
	}
	return sb.String()
}

// drawLine draws line i across the full width: a cursor gutter, then one
// pane or two.
func (t *treeView) drawLine(i int) string {
	l := t.ix.lines[i]
	cur := i == t.cursor
	gutter := " "
	if cur {
		gutter = ">"
	}
	w := t.width - 1
	if t.ix.unified {
		return gutter + t.cell(l, sideBoth, w, cur)
	}
	lw := (w - 1) / 2
	rw := w - 1 - lw
	return gutter + t.cell(l, sideGood, lw, cur && !t.badSide || cur && l.b == diff.None) +
		t.st.Separator.Render("│") + t.cell(l, sideBad, rw, cur && t.badSide || cur && l.g == diff.None)
}

// cell draws what pane s shows of line l in w columns.
func (t *treeView) cell(l line, s side, w int, cur bool) string {
	if w <= 0 {
		return ""
	}
	r := l.g
	if s == sideBad {
		r = l.b
	} else if s == sideBoth && r == diff.None {
		r = l.b
	}
	if r == diff.None {
		return strings.Repeat(" ", w)
	}
	res := t.ix.res
	row := &res.Rows[r]
	depth := int(row.Depth - res.Rows[t.ix.root].Depth)
	indent := strings.Repeat(" ", min(2*depth, w/2))
	var text string
	style := t.st.Same
	if l.kind == lineRun {
		text = "  " + indent + "  … " + countCalls(l.calls, "identical ")
		style = t.st.Dim
	} else {
		glyph := "  "
		if t.ix.hasKids(r) {
			glyph = "▸ "
			if t.ix.open[r] {
				glyph = "▾ "
			}
		}
		left := string(row.Op.Marker()) + " " + indent + glyph + t.label(r, s)
		if t.ix.hasKids(r) && !t.ix.open[r] {
			if row.Op == diff.OpSame {
				left += "  … " + countCalls(int64(row.Size-1), "identical ")
			} else {
				left += "  … " + countCalls(int64(row.Size-1), "")
			}
		}
		right := ""
		if t.durations && row.Depth > 0 {
			right = t.durs(r, s)
		}
		text = fit(left, right, w)
		switch row.Op {
		case diff.OpGoodOnly:
			style = t.st.GoodOnly
		case diff.OpBadOnly:
			style = t.st.BadOnly
		case diff.OpChanged:
			style = t.st.Changed
		}
		if t.match != nil && t.match(r) {
			style = style.Inherit(t.st.Match)
		}
	}
	if l.kind == lineRun {
		text = fit(text, "", w)
	}
	if cur {
		style = t.st.Cursor
	}
	return render(style, text)
}

// render styles text without letting lipgloss wrap or pad it.
func render(s lipgloss.Style, text string) string { return s.Inline(true).Render(text) }

// fit lays out left and right in exactly w columns, truncating left.
func fit(left, right string, w int) string {
	rw := ansi.StringWidth(right)
	if right == "" || rw+12 > w {
		return pad(ansi.Truncate(left, w, "…"), w)
	}
	return pad(ansi.Truncate(left, w-rw-1, "…"), w-rw-1) + " " + right
}

func pad(s string, w int) string {
	if n := w - ansi.StringWidth(s); n > 0 {
		return s + strings.Repeat(" ", n)
	}
	return s
}

// label returns the name a pane shows for row r, made safe for the terminal,
// with run lengths and, in raw mode, source lines.
func (t *treeView) label(r int32, s side) string {
	res := t.ix.res
	row := &res.Rows[r]
	if row.Depth == 0 {
		p := &res.Pairs[row.Pair]
		switch {
		case s == sideGood && p.Good >= 0:
			return "task " + parse.Safe(res.Good.Tasks[p.Good].Label())
		case s == sideBad && p.Bad >= 0:
			return "task " + parse.Safe(res.Bad.Tasks[p.Bad].Label())
		}
		return "task " + parse.Safe(p.Label)
	}
	var name string
	switch {
	case t.raw && s == sideGood && row.Good != parse.None:
		name = res.Good.NameOf(row.Good)
	case t.raw && s == sideBad && row.Bad != parse.None:
		name = res.Bad.NameOf(row.Bad)
	case t.raw || row.Key < 0 || int(row.Key) >= len(res.Names):
		name = res.RowName(r)
	default:
		name = res.Names[row.Key]
	}
	name = parse.Safe(name)
	switch {
	case s == sideGood && row.GoodN > 1:
		name += " x" + strconv.FormatInt(row.GoodN, 10)
	case s == sideBad && row.BadN > 1:
		name += " x" + strconv.FormatInt(row.BadN, 10)
	case s == sideBoth && row.Op <= diff.OpChanged && row.GoodN != row.BadN:
		name += " x" + strconv.FormatInt(row.GoodN, 10) + "|x" + strconv.FormatInt(row.BadN, 10)
	case s == sideBoth && max(row.GoodN, row.BadN) > 1:
		name += " x" + strconv.FormatInt(max(row.GoodN, row.BadN), 10)
	}
	if t.raw {
		g, b := nodeLine(res.Good, row.Good), nodeLine(res.Bad, row.Bad)
		switch {
		case s == sideGood && g != "":
			name += " " + g
		case s == sideBad && b != "":
			name += " " + b
		case s == sideBoth && (g != "" || b != ""):
			name += " " + strings.Trim(g+"|"+b, "|")
		}
	}
	return name
}

// nodeLine returns "L148" for node n of t, or "".
func nodeLine(t *parse.Trace, n parse.NodeID) string {
	if n == parse.None || t.Nodes[n].Line <= 0 {
		return ""
	}
	return "L" + strconv.Itoa(int(t.Nodes[n].Line))
}

// durs returns the duration column(s) of row r.
func (t *treeView) durs(r int32, s side) string {
	row := &t.ix.res.Rows[r]
	col := func(ns int64, present bool) string {
		switch {
		case !present:
			return strings.Repeat(" ", 11)
		case ns < 0:
			return pad("", 10) + "?"
		}
		d := parse.FormatDuration(ns)
		return strings.Repeat(" ", max(11-len(d), 0)) + d
	}
	g := col(row.GoodDur, row.Op != diff.OpBadOnly)
	b := col(row.BadDur, row.Op != diff.OpGoodOnly)
	switch s {
	case sideGood:
		return g
	case sideBad:
		return b
	}
	return g + " " + b
}

// countCalls says "1 identical call", "214 identical calls".
func countCalls(n int64, adj string) string {
	if n == 1 {
		return "1 " + adj + "call"
	}
	return strconv.FormatInt(n, 10) + " " + adj + "calls"
}
