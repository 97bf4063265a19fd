package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/tracediff/tracediff/diff"
	"github.com/tracediff/tracediff/parse"
)

// taskList is the child model that picks which pair of tasks is shown.
type taskList struct {
	st            *Styles
	res           *diff.Result
	cursor        int
	width, height int
	divs          []int // divergences per pair
}

func newTaskList(st *Styles, res *diff.Result) *taskList {
	tl := &taskList{st: st, res: res, divs: make([]int, len(res.Pairs))}
	for _, d := range res.Divergences {
		tl.divs[d.Pair]++
	}
	return tl
}

// SetSize sets the size of the list area.
func (tl *taskList) SetSize(w, h int) { tl.width, tl.height = w, max(h, 1) }

func (tl *taskList) move(delta int) {
	tl.cursor = min(max(tl.cursor+delta, 0), len(tl.res.Pairs)-1)
}

// View draws the pairs around the cursor.
func (tl *taskList) View() string {
	lines := []string{"task pairs (enter: show, esc: close)"}
	h := tl.height - 1
	first := max(0, min(tl.cursor-h/2, len(tl.res.Pairs)-h))
	for i := first; i < len(tl.res.Pairs) && len(lines) <= h; i++ {
		p := &tl.res.Pairs[i]
		row := &tl.res.Rows[p.Row]
		side := ""
		switch row.Op {
		case diff.OpGoodOnly:
			side = "  good only"
		case diff.OpBadOnly:
			side = "  bad only"
		}
		s := fmt.Sprintf("  %s  good %d calls, bad %d calls, similarity %.2f, %d divergences%s",
			parse.Safe(p.Label), row.GoodN, row.BadN, p.Similarity, tl.divs[i], side)
		s = pad(ansi.Truncate(s, tl.width, "…"), tl.width)
		if i == tl.cursor {
			s = ">" + s[1:]
			s = render(tl.st.Cursor, s)
		}
		lines = append(lines, s)
	}
	for len(lines) < tl.height {
		lines = append(lines, strings.Repeat(" ", tl.width))
	}
	return strings.Join(lines, "\n")
}
