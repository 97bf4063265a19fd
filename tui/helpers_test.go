package tui

import (
	"flag"
	"path/filepath"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/tracediff/tracediff/diff"
	"github.com/tracediff/tracediff/internal/testutil"
	"github.com/tracediff/tracediff/parse"
)

var update = flag.Bool("update", false, "rewrite the golden files of tui/testdata")

// sockmapPaths returns the bundled sockmap pair (examples/sockmap).
func sockmapPaths(tb testing.TB) (good, bad string) {
	tb.Helper()
	dir := filepath.Join("..", "examples", "sockmap")
	good = testutil.Glob(tb, filepath.Join(dir, "good.report"))[0]
	bad = testutil.Glob(tb, filepath.Join(dir, "bad.report"))[0]
	return good, bad
}

// sockmap compares the bundled sockmap pair.
func sockmap(tb testing.TB, opts diff.Options) *diff.Result {
	tb.Helper()
	gp, bp := sockmapPaths(tb)
	g, err := parse.ParseFile(gp)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := parse.ParseFile(bp)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := diff.Compare(g, b, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// sized returns a plain-styled model of res at w x h.
func sized(res *diff.Result, w, h int) Model {
	m := New(res).WithStyles(PlainStyles())
	return send(m, tea.WindowSizeMsg{Width: w, Height: h})
}

// send delivers msg and returns the updated model.
func send(m Model, msg tea.Msg) Model {
	nm, _ := m.Update(msg)
	return nm.(Model)
}

func sizeMsg(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }

// keyMsg makes the key press that key.Binding names as k ("up", "enter",
// "ctrl+c", "n", ...).
func keyMsg(k string) tea.KeyMsg {
	named := map[string]tea.KeyType{
		"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
		"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, " ": tea.KeySpace,
		"ctrl+c": tea.KeyCtrlC, "ctrl+b": tea.KeyCtrlB, "ctrl+f": tea.KeyCtrlF,
		"ctrl+u": tea.KeyCtrlU, "ctrl+d": tea.KeyCtrlD, "backspace": tea.KeyBackspace,
	}
	if t, ok := named[k]; ok {
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// press sends the key presses of each string in turn.
func press(m Model, keys ...string) Model {
	for _, k := range keys {
		m = send(m, keyMsg(k))
	}
	return m
}
