package tui

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/tracediff/tracediff/diff"
	"github.com/tracediff/tracediff/parse"
)

// splitMin is the narrowest terminal that gets two panes unless the user
// asks for them.
const splitMin = 100

// layout preferences of the unified key.
const (
	layoutAuto = iota
	layoutUnified
	layoutSplit
)

// Model is the root model of the UI: it owns the layout and the global
// keys and routes to the child models (tree, details, task list, search
// input, help).
type Model struct {
	keys    KeyMap
	st      *Styles
	help    help.Model
	input   textinput.Model
	spin    spinner.Model
	width   int
	height  int
	loading bool
	busy    string // what a running tea.Cmd computes, shown with the spinner
	err     error
	note    string // one-off message for the status line

	goodPath, badPath string
	opts              diff.Options

	res     *diff.Result
	tree    *treeView
	details *details
	tasks   *taskList
	pair    int
	focus   []int32 // focused rows, innermost last
	div     int     // the divergence last shown, or -1

	searching bool    // the search input has the keyboard
	query     string  // the active search, "" for none
	keyMatch  []bool  // per Result.Names entry: matches the query
	matches   []int32 // matching rows below the root, in pre-order
	match     int     // the match last shown
	pos       []int32 // pre-order position of each row (built on first search)
	order     []int32

	showHelp, showTasks bool
	layout              int
}

// loadedMsg carries the result of parsing and comparing.
type loadedMsg struct {
	res  *diff.Result
	err  error
	note string
}

// New returns a model showing res, for callers that have compared already
// and for tests. Its cursor starts on the top divergence.
func New(res *diff.Result) Model {
	m := newModel()
	if res != nil {
		m.goodPath, m.badPath, m.opts = res.Good.Path, res.Bad.Path, res.Options
	}
	m.setResult(res)
	return m
}

// WithStyles returns m drawing with st (tests pin [PlainStyles]).
func (m Model) WithStyles(st Styles) Model {
	*m.st = st
	return m
}

func newModel() Model {
	st := DefaultStyles()
	in := textinput.New()
	in.Prompt = "/"
	in.CharLimit = 256
	sp := spinner.New()
	sp.Spinner = spinner.Line
	m := Model{keys: DefaultKeyMap(), st: &st, help: help.New(), input: in, spin: sp, width: 80, height: 24, div: -1}
	return m
}

// Err returns the error that stopped loading, if any.
func (m Model) Err() error { return m.err }

// setResult shows res, with the cursor on its top divergence.
func (m *Model) setResult(res *diff.Result) {
	m.res = res
	m.focus, m.pos, m.order, m.matches, m.keyMatch = nil, nil, nil, nil, nil
	m.div = -1
	if res == nil || len(res.Pairs) == 0 {
		m.tree = nil
		return
	}
	ix := newIndex(res)
	old := m.tree
	m.tree = &treeView{ix: ix, st: m.st, durations: true}
	if old != nil {
		m.tree.durations, m.tree.raw = old.durations, old.raw
	}
	m.details = &details{st: m.st, res: res}
	m.tasks = newTaskList(m.st, res)
	m.pair = 0
	ix.root = res.Pairs[0].Row
	m.resize()
	if len(res.Divergences) > 0 {
		m.gotoDiv(0)
	} else {
		m.tree.relist(ix.root, false)
	}
	if m.query != "" {
		m.setQuery(m.query, false)
	}
}

// Init starts nothing for a model made by New; see [Run].
func (m Model) Init() tea.Cmd {
	if m.loading {
		return tea.Batch(m.spin.Tick, m.load())
	}
	return nil
}

// load parses both captures and compares them, off the UI goroutine.
func (m Model) load() tea.Cmd {
	good, bad, opts := m.goodPath, m.badPath, m.opts
	return func() tea.Msg {
		g, err := parse.ParseFile(good)
		if err != nil {
			return loadedMsg{err: err}
		}
		b, err := parse.ParseFile(bad)
		if err != nil {
			return loadedMsg{err: err}
		}
		res, err := diff.Compare(g, b, opts)
		return loadedMsg{res: res, err: err}
	}
}

// recompare runs diff.Compare again with new options, off the UI goroutine.
func (m Model) recompare(opts diff.Options, note string) tea.Cmd {
	good, bad := m.res.Good, m.res.Bad
	return func() tea.Msg {
		res, err := diff.Compare(good, bad, opts)
		return loadedMsg{res: res, err: err, note: note}
	}
}

// resize lays the children out for the terminal size.
func (m *Model) resize() {
	m.help.Width = m.width
	m.input.Width = max(m.width-2, 1)
	if m.tree == nil {
		return
	}
	unified := m.layout == layoutUnified || m.layout == layoutAuto && m.width < splitMin
	h := m.bodyHeight()
	m.details.SetSize(m.width)
	m.tasks.SetSize(m.width, h)
	if unified != m.tree.ix.unified {
		r := m.tree.Row()
		m.tree.ix.unified = unified
		m.tree.SetSize(m.width, h)
		m.tree.relist(r, false)
		return
	}
	m.tree.SetSize(m.width, h)
}

// showDetails reports whether the terminal is tall enough for the panel.
func (m *Model) showDetails() bool { return m.height >= 14 }

// bodyHeight is what is left for the tree: two header lines, the details
// panel, the status line and the help line.
func (m *Model) bodyHeight() int {
	h := m.height - 4
	if m.showDetails() {
		h -= detailsHeight
	}
	return max(h, 1)
}

// Update handles a message and returns the updated model.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = max(msg.Width, 1), max(msg.Height, 1)
		m.resize()
		return m, nil
	case loadedMsg:
		m.loading, m.busy = false, ""
		if msg.err != nil {
			m.err = msg.err
			return m, nil
		}
		m.setResult(msg.res)
		m.note = msg.note
		return m, nil
	case spinner.TickMsg:
		if !m.loading && m.busy == "" {
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case tea.MouseMsg:
		if m.tree == nil || m.showHelp || m.showTasks || msg.Action != tea.MouseActionPress {
			return m, nil
		}
		switch msg.Button {
		case tea.MouseButtonWheelUp:
			m.tree.wheel(-3)
		case tea.MouseButtonWheelDown:
			m.tree.wheel(3)
		}
		return m, nil
	case tea.KeyMsg:
		return m.key(msg)
	}
	if m.searching {
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		return m, cmd
	}
	return m, nil
}

// key handles a key press: the search input, the overlays, then the tree.
func (m Model) key(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	k := m.keys
	m.note = ""
	if m.err != nil || m.loading || m.tree == nil {
		if key.Matches(msg, k.Quit) || m.err != nil || m.tree == nil && !m.loading {
			return m, tea.Quit
		}
		return m, nil
	}
	if m.searching {
		switch msg.Type {
		case tea.KeyEnter:
			m.searching = false
			m.input.Blur()
			return m, nil
		case tea.KeyEsc:
			m.searching = false
			m.input.Blur()
			m.clearSearch()
			return m, nil
		}
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		if q := m.input.Value(); q != m.query {
			m.setQuery(q, true)
		}
		return m, cmd
	}
	if m.showHelp {
		switch {
		case key.Matches(msg, k.Quit):
			return m, tea.Quit
		case key.Matches(msg, k.Help, k.Back):
			m.showHelp = false
		}
		return m, nil
	}
	if m.showTasks {
		switch {
		case key.Matches(msg, k.Quit):
			return m, tea.Quit
		case key.Matches(msg, k.Up):
			m.tasks.move(-1)
		case key.Matches(msg, k.Down):
			m.tasks.move(1)
		case key.Matches(msg, k.PageUp):
			m.tasks.move(-m.tasks.height)
		case key.Matches(msg, k.PageDown):
			m.tasks.move(m.tasks.height)
		case key.Matches(msg, k.Toggle, k.Open):
			m.showTasks = false
			m.setPair(m.tasks.cursor)
			m.tree.relist(m.tree.ix.root, false)
		case key.Matches(msg, k.Tasks, k.Back):
			m.showTasks = false
		}
		return m, nil
	}
	return m.treeKey(msg)
}

// treeKey handles the keys of the main view.
func (m Model) treeKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	k, t, ix := m.keys, m.tree, m.tree.ix
	r := t.Row()
	switch {
	case key.Matches(msg, k.Quit):
		return m, tea.Quit
	case key.Matches(msg, k.Up):
		t.move(-1)
	case key.Matches(msg, k.Down):
		t.move(1)
	case key.Matches(msg, k.PageUp):
		t.move(-t.height)
	case key.Matches(msg, k.PageDown):
		t.move(t.height)
	case key.Matches(msg, k.Top):
		t.move(-len(ix.lines))
	case key.Matches(msg, k.Bottom):
		t.move(len(ix.lines))
	case key.Matches(msg, k.Toggle):
		if l := t.Line(); l.kind == lineRun {
			ix.runOpen[ix.res.Rows[l.g].Parent] = true
			t.relist(l.g, false)
		} else if ix.hasKids(r) {
			ix.open[r] = !ix.open[r]
			t.relist(r, false)
		}
	case key.Matches(msg, k.Parent):
		switch {
		case t.Line().kind == lineRun:
			t.goTo(ix.res.Rows[r].Parent, false)
		case ix.isOpen(r) && r != ix.root:
			ix.open[r] = false
			t.relist(r, false)
		case r != ix.root:
			t.goTo(ix.res.Rows[r].Parent, false)
		}
	case key.Matches(msg, k.Open):
		switch {
		case t.Line().kind == lineRun:
			ix.runOpen[ix.res.Rows[r].Parent] = true
			t.relist(r, false)
		case ix.hasKids(r) && !ix.open[r]:
			ix.open[r] = true
			t.relist(r, false)
		default:
			t.move(1)
		}
	case key.Matches(msg, k.OpenSubtree):
		ix.setSubtree(r, true)
		t.relist(r, false)
	case key.Matches(msg, k.CloseSubtree):
		ix.setSubtree(r, false)
		if r == ix.root {
			ix.open[r] = true
		}
		t.relist(r, false)
	case key.Matches(msg, k.OpenAll):
		ix.setSubtree(ix.root, true)
		t.relist(r, false)
	case key.Matches(msg, k.CloseAll):
		ix.setSubtree(ix.root, false)
		ix.open[ix.root] = true
		t.relist(r, false)
	case key.Matches(msg, k.Next):
		m.step(1)
	case key.Matches(msg, k.Prev):
		m.step(-1)
	case key.Matches(msg, k.Search):
		m.searching = true
		m.input.SetValue(m.query)
		m.input.CursorEnd()
		return m, m.input.Focus()
	case key.Matches(msg, k.Focus):
		if t.Line().kind == lineRun || r == ix.root {
			return m, nil
		}
		m.focus = append(m.focus, r)
		ix.root = r
		ix.open[r] = true
		t.offset = 0
		t.relist(r, false)
		m.refreshMatches()
	case key.Matches(msg, k.Back):
		switch {
		case m.query != "":
			m.clearSearch()
		case len(m.focus) > 0:
			m.focus = m.focus[:len(m.focus)-1]
			ix.root = m.res.Pairs[m.pair].Row
			if len(m.focus) > 0 {
				ix.root = m.focus[len(m.focus)-1]
			}
			t.relist(r, true)
			m.refreshMatches()
		}
	case key.Matches(msg, k.Durations):
		t.durations = !t.durations
	case key.Matches(msg, k.Raw):
		t.raw = !t.raw
	case key.Matches(msg, k.IRQ):
		opts := m.res.Options
		opts.IRQ = !opts.IRQ
		m.opts = opts
		m.busy = "comparing again with interrupt subtrees " + map[bool]string{true: "shown", false: "hidden"}[opts.IRQ]
		note := "interrupt subtrees " + map[bool]string{true: "shown", false: "left out"}[opts.IRQ]
		return m, tea.Batch(m.spin.Tick, m.recompare(opts, note))
	case key.Matches(msg, k.Tasks):
		m.showTasks = true
		m.tasks.cursor = m.pair
	case key.Matches(msg, k.Unified):
		if ix.unified {
			m.layout = layoutSplit
		} else {
			m.layout = layoutUnified
		}
		m.resize()
	case key.Matches(msg, k.Side):
		t.badSide = !t.badSide
	case key.Matches(msg, k.Help):
		m.showHelp = true
	}
	return m, nil
}

// setPair shows the task pair p from its root.
func (m *Model) setPair(p int) {
	if p < 0 || p >= len(m.res.Pairs) {
		return
	}
	m.pair = p
	m.focus = nil
	m.tree.ix.root = m.res.Pairs[p].Row
	m.tree.offset = 0
	m.refreshMatches()
}

// reveal shows row r: in its task pair, out of a focus that excludes it,
// with its ancestors open, and puts the cursor on it.
func (m *Model) reveal(r int32) {
	ix := m.tree.ix
	if p := int(m.res.Rows[r].Pair); p != m.pair {
		m.setPair(p)
	}
	for len(m.focus) > 0 && !ix.within(r, ix.root) {
		m.focus = m.focus[:len(m.focus)-1]
		ix.root = m.res.Pairs[m.pair].Row
		if len(m.focus) > 0 {
			ix.root = m.focus[len(m.focus)-1]
		}
	}
	ix.reveal(r)
	m.tree.relist(r, true)
}

// gotoDiv puts the cursor on divergence i.
func (m *Model) gotoDiv(i int) {
	m.div = i
	m.reveal(m.res.Divergences[i].Row)
}

// step goes to the next (+1) or previous (-1) match while a search is
// active, else to the next or previous divergence in rank order.
func (m *Model) step(dir int) {
	if m.query != "" {
		m.stepMatch(dir)
		return
	}
	n := len(m.res.Divergences)
	if n == 0 {
		return
	}
	m.gotoDiv(((m.div+dir)%n + n) % n)
}

// statusLine says which divergence is shown, or how the search went,
// after the note of the last action if any.
func (m *Model) statusLine() string {
	if m.note != "" {
		return m.note + " · " + m.status()
	}
	return m.status()
}

func (m *Model) status() string {
	switch {
	case m.query != "":
		if len(m.matches) == 0 {
			return "/" + parse.Safe(m.query) + " · no match"
		}
		return fmt.Sprintf("/%s · match %d of %d", parse.Safe(m.query), m.match+1, len(m.matches))
	case len(m.res.Divergences) == 0:
		return fmt.Sprintf("no divergence · %d task pairs compared", len(m.res.Pairs))
	}
	i := m.div
	if r := m.tree.Row(); r != diff.None && m.res.Rows[r].Div != diff.None && (i < 0 || m.res.Divergences[i].Row != r) {
		i = int(m.res.Rows[r].Div)
	}
	if i < 0 {
		return fmt.Sprintf("%d divergences · n: next", len(m.res.Divergences))
	}
	d := &m.res.Divergences[i]
	return fmt.Sprintf("divergence %d of %d · %s · %s", i+1, len(m.res.Divergences), kindText(d), parse.Safe(d.Summary))
}

// View draws the screen.
func (m Model) View() string {
	w := m.width
	fitW := func(s string) string { return pad(ansi.Truncate(s, w, "…"), w) }
	switch {
	case m.err != nil:
		return m.fill([]string{m.st.Error.Render(fitW("tracediff: " + parse.Safe(m.err.Error()))), fitW("press any key to quit")})
	case m.loading:
		return m.fill([]string{fitW(m.spin.View() + " reading " + parse.Safe(m.goodPath) + " and " + parse.Safe(m.badPath) + ", aligning…")})
	case m.tree == nil:
		return m.fill([]string{fitW("nothing to compare: no task holds calls"), fitW("press any key to quit")})
	}
	var out []string
	out = append(out, m.st.Header.Inline(true).Render(fitW(m.title())))
	out = append(out, m.columns())
	switch {
	case m.showHelp:
		hm := m.help
		hm.ShowAll = true
		body := strings.Split(hm.View(m.keys), "\n")
		out = append(out, m.block(body, m.bodyHeight())...)
	case m.showTasks:
		out = append(out, m.tasks.View())
	default:
		out = append(out, m.tree.View())
	}
	if m.showDetails() {
		m.details.row = m.tree.Row()
		if l := m.tree.Line(); l.kind == lineRun {
			m.details.row = diff.None
		}
		out = append(out, m.details.View())
	}
	status := m.statusLine()
	if m.busy != "" {
		status = m.spin.View() + " " + m.busy
	}
	out = append(out, m.st.Status.Inline(true).Render(fitW(status)))
	if m.searching {
		out = append(out, fitW(m.input.View()))
	} else {
		hm := m.help
		hm.ShowAll = false
		out = append(out, m.st.Help.Inline(true).Render(fitW(hm.ShortHelpView(m.keys.ShortHelp()))))
	}
	if all := strings.Split(strings.Join(out, "\n"), "\n"); len(all) > m.height {
		// A terminal too short for the frame keeps the tree and the status.
		skip := min(2, len(all)-m.height)
		all = all[skip : skip+m.height]
		return strings.Join(all, "\n")
	}
	return strings.Join(out, "\n")
}

// title is the first line: the task pair and the divergence count, or the
// breadcrumb of the focused subtree.
func (m *Model) title() string {
	if len(m.focus) > 0 {
		return "focus: " + parse.Safe(strings.Join(m.res.PathOf(m.tree.ix.root), " > ")) + "  (esc: back)"
	}
	t := "tracediff · task " + parse.Safe(m.res.Pairs[m.pair].Label)
	if len(m.res.Pairs) > 1 {
		t += fmt.Sprintf(" (%d of %d, t: tasks)", m.pair+1, len(m.res.Pairs))
	}
	return t + " · " + m.res.Stats()
}

// columns is the second line: which capture each pane shows.
func (m *Model) columns() string {
	g := "- good " + parse.Safe(filepath.Base(m.res.Good.Path))
	b := "+ bad " + parse.Safe(filepath.Base(m.res.Bad.Path))
	if m.res.Options.IRQ {
		b += "  [irq shown]"
	}
	w := m.width
	if m.tree.ix.unified {
		return m.st.Dim.Inline(true).Render(pad(ansi.Truncate(" "+g+"   "+b, w, "…"), w))
	}
	lw := (w - 2) / 2
	rw := w - 2 - lw
	return m.st.Dim.Inline(true).Render(" " + pad(ansi.Truncate(g, lw, "…"), lw) + "│" + pad(ansi.Truncate(b, rw, "…"), rw))
}

// block pads lines to the width and to exactly h lines.
func (m *Model) block(lines []string, h int) []string {
	out := make([]string, 0, h)
	for i := 0; i < h; i++ {
		s := ""
		if i < len(lines) {
			s = lines[i]
		}
		out = append(out, pad(ansi.Truncate(s, m.width, "…"), m.width))
	}
	return out
}

// fill pads a short message screen to the terminal height.
func (m Model) fill(lines []string) string {
	return strings.Join(m.block(lines, m.height), "\n")
}
