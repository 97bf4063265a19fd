package tui

import "github.com/tracediff/tracediff/diff"

// lineKind says what a line of the flattened index shows.
type lineKind uint8

const (
	lineRow lineKind = iota // one row, or one row per side in a band
	lineRun                 // an elided run of identical sibling rows
)

// line is one screen line of the tree. In the two-pane layout a matched row
// has g == b; in a band of one-sided calls (a gap, or a substitution: what
// one side calls where the other calls something else) g and b are
// unrelated rows listed side by side, and one of them is diff.None past the
// shorter side. In the unified layout every line holds one row.
type line struct {
	g, b  int32 // row shown on the good (left) and bad (right) side, or diff.None
	kind  lineKind
	n     int32 // lineRun: sibling rows elided, starting at g
	calls int64 // lineRun: rows in their subtrees
}

// row returns the row a line stands for, preferring side bad when asked.
func (l line) row(bad bool) int32 {
	if bad && l.b != diff.None || l.g == diff.None {
		return l.b
	}
	return l.g
}

// index is the flattened list of the lines on display below a root row,
// with the fold state of every row. It is rebuilt only when the fold state
// or the layout changes, and then walks only the open rows (plus the
// sibling lists it elides); moving the cursor never touches it.
type index struct {
	res     *diff.Result
	open    []bool // per row: its children are listed
	shown   []bool // per row: never elided in a run of identical siblings
	runOpen []bool // per row: its identical children are all listed
	root    int32  // the task row, or the focused row
	unified bool   // one pane: one row per line
	lines   []line
	// scratch for rebuild
	stack      []frame
	left, rght []int32
}

// frame iterates a list of siblings during rebuild.
type frame struct {
	next     int32 // the next sibling to list
	runStart int32 // first row of the current run of identical siblings
	runEnd   int32 // the sibling after it (diff.None at the end)
	inRun    bool
	hasPrev  bool // the run follows a sibling that differs
}

// contextRows of identical siblings stay listed next to a change.
const contextRows = 1

func newIndex(res *diff.Result) *index {
	n := len(res.Rows)
	ix := &index{res: res, open: make([]bool, n), shown: make([]bool, n), runOpen: make([]bool, n)}
	ix.resetFolds()
	return ix
}

// resetFolds sets the initial fold state: rows that differ are open down to
// every divergence, the head of a one-sided subtree shows its direct
// callees, and identical subtrees are folded.
func (ix *index) resetFolds() {
	rows := ix.res.Rows
	for i := range rows {
		r := &rows[i]
		switch r.Op {
		case diff.OpChanged:
			ix.open[i] = true
		case diff.OpGoodOnly, diff.OpBadOnly:
			ix.open[i] = r.Parent == diff.None || rows[r.Parent].Op != r.Op
		default:
			ix.open[i] = false
		}
	}
}

func (ix *index) hasKids(r int32) bool { return ix.res.Rows[r].FirstChild != diff.None }

// isOpen reports whether row r lists its children.
func (ix *index) isOpen(r int32) bool { return ix.open[r] && ix.hasKids(r) }

// lineOf returns the line of row r as a side sees it.
func (ix *index) lineOf(r int32) line {
	switch ix.res.Rows[r].Op {
	case diff.OpGoodOnly:
		return line{g: r, b: diff.None}
	case diff.OpBadOnly:
		return line{g: diff.None, b: r}
	}
	return line{g: r, b: r}
}

func oneSided(op diff.Op) bool { return op == diff.OpGoodOnly || op == diff.OpBadOnly }

// rebuild lists the lines below ix.root. It walks the open rows
// iteratively, so a deep tree cannot exhaust the stack.
func (ix *index) rebuild() {
	rows := ix.res.Rows
	ix.lines = ix.lines[:0]
	ix.lines = append(ix.lines, ix.lineOf(ix.root))
	if !ix.isOpen(ix.root) {
		return
	}
	ix.stack = append(ix.stack[:0], frame{next: rows[ix.root].FirstChild})
	for len(ix.stack) > 0 {
		f := &ix.stack[len(ix.stack)-1]
		c := f.next
		if f.inRun && c == f.runEnd {
			f.inRun = false
		}
		if c == diff.None {
			ix.stack = ix.stack[:len(ix.stack)-1]
			continue
		}
		r := &rows[c]
		switch {
		case oneSided(r.Op) && !ix.unified:
			f.next = ix.band(c)
		case r.Op == diff.OpSame:
			if !f.inRun {
				f.inRun, f.runStart, f.hasPrev = true, c, rows[r.Parent].FirstChild != c
				e := c
				for e != diff.None && rows[e].Op == diff.OpSame {
					e = rows[e].NextSibling
				}
				f.runEnd = e
			}
			if ix.keep(f, c) {
				f.next = r.NextSibling
				ix.lines = append(ix.lines, line{g: c, b: c})
				if ix.isOpen(c) {
					ix.stack = append(ix.stack, frame{next: r.FirstChild})
				}
				continue
			}
			// Gather the elided segment: up to the next kept row.
			n, calls, e := int32(0), int64(0), c
			for e != f.runEnd && (e == c || !ix.keep(f, e)) {
				n++
				calls += int64(rows[e].Size)
				e = rows[e].NextSibling
			}
			f.next = e
			if n == 1 {
				ix.lines = append(ix.lines, line{g: c, b: c})
				if ix.isOpen(c) {
					ix.stack = append(ix.stack, frame{next: r.FirstChild})
				}
				continue
			}
			ix.lines = append(ix.lines, line{g: c, b: c, kind: lineRun, n: n, calls: calls})
		default:
			f.next = r.NextSibling
			ix.lines = append(ix.lines, ix.lineOf(c))
			if ix.isOpen(c) {
				ix.stack = append(ix.stack, frame{next: r.FirstChild})
			}
		}
	}
}

// keep reports whether row c, in the run of identical siblings that f is
// listing, stays on its own line: it sits next to a change, the user
// unfolded its run, or it leads to a row the cursor was taken to.
func (ix *index) keep(f *frame, c int32) bool {
	rows := ix.res.Rows
	switch {
	case ix.runOpen[rows[c].Parent] || ix.shown[c]:
		return true
	case f.hasPrev && c == f.runStart:
		return true
	case f.runEnd != diff.None && rows[c].NextSibling == f.runEnd:
		return true
	}
	return false
}

// band lists the maximal run of one-sided siblings starting at c side by
// side: the good side's subtrees on the left, the bad side's on the right,
// so that what each side calls at that place shares a band of lines. It
// returns the sibling after the run.
func (ix *index) band(c int32) int32 {
	rows := ix.res.Rows
	ix.left, ix.rght = ix.left[:0], ix.rght[:0]
	for ; c != diff.None && oneSided(rows[c].Op); c = rows[c].NextSibling {
		if rows[c].Op == diff.OpGoodOnly {
			ix.left = ix.flatten(c, ix.left)
		} else {
			ix.rght = ix.flatten(c, ix.rght)
		}
	}
	for i := 0; i < len(ix.left) || i < len(ix.rght); i++ {
		l := line{g: diff.None, b: diff.None}
		if i < len(ix.left) {
			l.g = ix.left[i]
		}
		if i < len(ix.rght) {
			l.b = ix.rght[i]
		}
		ix.lines = append(ix.lines, l)
	}
	return c
}

// flatten appends the open rows of the subtree at r in pre-order.
func (ix *index) flatten(r int32, out []int32) []int32 {
	rows := ix.res.Rows
	st := []int32{r}
	for len(st) > 0 {
		n := st[len(st)-1]
		st = st[:len(st)-1]
		out = append(out, n)
		if !ix.isOpen(n) {
			continue
		}
		mark := len(st)
		for ch := rows[n].FirstChild; ch != diff.None; ch = rows[ch].NextSibling {
			st = append(st, ch)
		}
		for i, j := mark, len(st)-1; i < j; i, j = i+1, j-1 {
			st[i], st[j] = st[j], st[i]
		}
	}
	return out
}

// find returns the line showing row r (on either side), or -1.
func (ix *index) find(r int32) int {
	for i, l := range ix.lines {
		if l.g == r || l.b == r {
			return i
		}
		if l.kind == lineRun && ix.inRun(l, r) {
			return i
		}
	}
	return -1
}

// inRun reports whether row r is one of the siblings a run line elides.
func (ix *index) inRun(l line, r int32) bool {
	rows := ix.res.Rows
	if rows[r].Parent != rows[l.g].Parent {
		return false
	}
	c := l.g
	for k := int32(0); k < l.n; k++ {
		if c == r {
			return true
		}
		c = rows[c].NextSibling
	}
	return false
}

// reveal opens every ancestor of r below the root and keeps them out of
// elided runs, so that r gets a line of its own.
func (ix *index) reveal(r int32) {
	rows := ix.res.Rows
	ix.shown[r] = true
	for a := rows[r].Parent; a != diff.None; a = rows[a].Parent {
		ix.open[a] = true
		ix.shown[a] = true
		if a == ix.root {
			break
		}
	}
}

// within reports whether row r is in the subtree of row a.
func (ix *index) within(r, a int32) bool {
	rows := ix.res.Rows
	for ; r != diff.None; r = rows[r].Parent {
		if r == a {
			return true
		}
	}
	return false
}

// setSubtree opens or folds every row of the subtree at r.
func (ix *index) setSubtree(r int32, open bool) {
	rows := ix.res.Rows
	st := []int32{r}
	for len(st) > 0 {
		n := st[len(st)-1]
		st = st[:len(st)-1]
		ix.open[n] = open
		ix.runOpen[n] = open
		for ch := rows[n].FirstChild; ch != diff.None; ch = rows[ch].NextSibling {
			if rows[ch].FirstChild != diff.None {
				st = append(st, ch)
			}
		}
	}
}
