package tui

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/tracediff/tracediff/diff"
	"github.com/tracediff/tracediff/internal/testutil"
	"github.com/tracediff/tracediff/parse"
)

// TestGolden pins the first screen of the sockmap example at the smallest
// supported terminal and at a large one.
func TestGolden(t *testing.T) {
	res := sockmap(t, diff.Options{})
	for _, sz := range [][2]int{{80, 24}, {200, 50}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m := sized(res, sz[0], sz[1])
			v := m.View()
			checkScreen(t, v, sz[0], sz[1])
			testutil.Golden(t, filepath.Join("testdata", fmt.Sprintf("sockmap-%dx%d.golden", sz[0], sz[1])), []byte(v+"\n"), *update)
		})
	}
}

// checkScreen checks that v fills exactly w x h cells.
func checkScreen(t *testing.T, v string, w, h int) {
	t.Helper()
	lines := strings.Split(v, "\n")
	if len(lines) != h {
		t.Errorf("screen has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if got := ansi.StringWidth(l); got != w {
			t.Errorf("line %d is %d columns wide, want %d: %q", i+1, got, w, l)
		}
	}
}

// lineWith returns the index of the first screen line holding s, or -1.
func lineWith(v, s string) int {
	for i, l := range strings.Split(v, "\n") {
		if strings.Contains(l, s) {
			return i
		}
	}
	return -1
}

// TestFirstScreenBand checks that the top divergence is on the first
// screen with the substituted calls side by side: tcp_bpf_recvmsg on the
// left, tcp_recvmsg on the right, on the line under inet_recvmsg.
func TestFirstScreenBand(t *testing.T) {
	m := sized(sockmap(t, diff.Options{}), 120, 40)
	checkBand(t, m.View(), 120)
}

func checkBand(t *testing.T, v string, w int) {
	t.Helper()
	lines := strings.Split(v, "\n")
	i := lineWith(v, "inet_recvmsg")
	if i < 0 || !strings.HasPrefix(lines[i], ">") {
		t.Fatalf("cursor is not on inet_recvmsg:\n%s", v)
	}
	band := lines[i+1]
	left, right, ok := strings.Cut(band, "│")
	if !ok || !strings.Contains(left, "tcp_bpf_recvmsg") || !strings.Contains(right, "tcp_recvmsg") {
		t.Errorf("line after inet_recvmsg is %q, want tcp_bpf_recvmsg left and tcp_recvmsg right", band)
	}
	if !strings.Contains(v, "divergence 1 of ") {
		t.Errorf("status line does not show divergence 1:\n%s", v)
	}
}

// TestResize goes from 200x50 to 60x20 and back: the small screen is a
// unified pane that still shows the cursor's call, and the large screen
// comes back exactly as it was.
func TestResize(t *testing.T) {
	res := sockmap(t, diff.Options{})
	m := sized(res, 200, 50)
	before := m.View()
	small := send(m, sizeMsg(60, 20))
	v := small.View()
	checkScreen(t, v, 60, 20)
	if !small.tree.ix.unified {
		t.Error("60 columns: want the unified pane")
	}
	if i := lineWith(v, "inet_recvmsg"); i < 0 || !strings.HasPrefix(strings.Split(v, "\n")[i], ">") {
		t.Errorf("60x20: cursor not on inet_recvmsg:\n%s", v)
	}
	back := send(small, sizeMsg(200, 50))
	if after := back.View(); after != before {
		t.Errorf("200x50 after a resize differs:\n%s\nwant:\n%s", after, before)
	}
	// A terminal too small for anything still gets a full screen.
	tiny := send(back, sizeMsg(10, 3))
	checkScreen(t, tiny.View(), 10, 3)
}

// TestNoControlSequences feeds names carrying escape sequences and checks
// that nothing but the styles' own sequences reach the screen.
func TestNoControlSequences(t *testing.T) {
	mk := func(name, evil string) *parse.Trace {
		b := parse.NewBuilder(name, parse.FormatFtrace, 0)
		task := b.Task(1, []byte("t\x1b]0;pwned\x07"), -1)
		b.Enter(task, []byte("root"), 1000, 0, 1)
		b.Leaf(task, []byte(evil), 2000, 1000, 0, 2)
		b.Exit(task, nil, 3000, 2000, 0, 3)
		return b.Finish(3)
	}
	g := mk("good\x1b[2J", "a\x1b[31mred")
	bb := mk("bad", "b\x9b2Jcsi")
	res, err := diff.Compare(g, bb, diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{80, 120} {
		m := sized(res, w, 24)
		m = send(m, keyMsg("r"))
		v := m.View()
		if strings.ContainsAny(v, "\x1b\x07\x9b") {
			t.Errorf("%d columns: control characters reach the screen: %q", w, v)
		}
		if !strings.Contains(v, `a\x1b[31mred`) {
			t.Errorf("%d columns: escaped name not shown:\n%s", w, v)
		}
	}
}

// TestColours pins an ANSI profile: good-only calls are red, bad-only
// green, changed yellow; NO_COLOR turns every colour off.
func TestColours(t *testing.T) {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.ANSI)
	m := send(New(sockmap(t, diff.Options{})).WithStyles(NewStyles(r)), sizeMsg(120, 40))
	v := m.View()
	for _, want := range []string{"\x1b[31m- ", "\x1b[32m+ ", "\x1b[33m~ "} {
		if !strings.Contains(v, want) {
			t.Errorf("no %q in the coloured screen", want)
		}
	}
	t.Setenv("NO_COLOR", "1")
	if s := DefaultStyles().GoodOnly.Render("x"); s != "x" {
		t.Errorf("NO_COLOR: %q", s)
	}
}

// TestMouseWheel scrolls with the wheel and drags the cursor along.
func TestMouseWheel(t *testing.T) {
	m := sized(sockmap(t, diff.Options{IRQ: true}), 120, 12)
	m = press(m, "O")
	c0 := m.tree.cursor
	m = send(m, tea.MouseMsg{Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress})
	if m.tree.offset == 0 && len(m.tree.ix.lines) > m.tree.height {
		t.Error("wheel down did not scroll")
	}
	if m.tree.cursor < m.tree.offset || m.tree.cursor >= m.tree.offset+m.tree.height {
		t.Errorf("cursor %d off screen (offset %d, was %d)", m.tree.cursor, m.tree.offset, c0)
	}
	m = send(m, tea.MouseMsg{Button: tea.MouseButtonWheelUp, Action: tea.MouseActionPress})
	m = send(m, tea.MouseMsg{Button: tea.MouseButtonWheelUp, Action: tea.MouseActionPress})
	if m.tree.cursor < m.tree.offset || m.tree.cursor >= m.tree.offset+m.tree.height {
		t.Errorf("cursor %d off screen (offset %d)", m.tree.cursor, m.tree.offset)
	}
}
