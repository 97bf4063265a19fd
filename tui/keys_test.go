package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/tracediff/tracediff/diff"
)

// rowName is the matching name of the row under the cursor.
func rowName(m Model) string {
	r := m.tree.Row()
	if r == diff.None {
		return ""
	}
	return m.res.RowName(r)
}

// TestKeys drives every binding of the KeyMap from the first screen of the
// sockmap example (cursor on inet_recvmsg, divergence 1).
func TestKeys(t *testing.T) {
	plain := sockmap(t, diff.Options{})
	irq := sockmap(t, diff.Options{IRQ: true})
	km := DefaultKeyMap()
	start := func(res *diff.Result) Model { return sized(res, 120, 40) }
	cases := []struct {
		b     key.Binding
		res   *diff.Result
		check func(t *testing.T, m0, m Model, cmd tea.Cmd)
	}{
		{km.Up, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			if m.tree.cursor != m0.tree.cursor-1 || rowName(m) != "security_socket_recvmsg" {
				t.Errorf("cursor on %q", rowName(m))
			}
		}},
		{km.Down, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			if m.tree.cursor != m0.tree.cursor+1 || rowName(m) != "tcp_bpf_recvmsg" {
				t.Errorf("cursor on %q", rowName(m))
			}
		}},
		{km.PageUp, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			if m.tree.cursor != 0 {
				t.Errorf("cursor %d", m.tree.cursor)
			}
		}},
		{km.PageDown, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			if m.tree.cursor != len(m.tree.ix.lines)-1 {
				t.Errorf("cursor %d of %d", m.tree.cursor, len(m.tree.ix.lines))
			}
		}},
		{km.Top, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			if m.tree.cursor != 0 || m.tree.offset != 0 {
				t.Errorf("cursor %d offset %d", m.tree.cursor, m.tree.offset)
			}
		}},
		{km.Bottom, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			if m.tree.cursor != len(m.tree.ix.lines)-1 || rowName(m) != "fput" {
				t.Errorf("cursor on %q", rowName(m))
			}
		}},
		{km.Parent, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			if m.tree.ix.isOpen(m.tree.Row()) || len(m.tree.ix.lines) >= len(m0.tree.ix.lines) {
				t.Error("inet_recvmsg not folded")
			}
			m = press(m, "h")
			if rowName(m) != "sock_recvmsg" {
				t.Errorf("h on a folded call: cursor on %q, want its parent", rowName(m))
			}
		}},
		{km.Open, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			if rowName(m) != "tcp_bpf_recvmsg" {
				t.Errorf("l on an open call: cursor on %q, want the next line", rowName(m))
			}
			m = press(m0, "h", "l")
			if !m.tree.ix.isOpen(m.tree.Row()) || len(m.tree.ix.lines) != len(m0.tree.ix.lines) {
				t.Error("h then l: inet_recvmsg not open again")
			}
		}},
		{km.Toggle, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			if m.tree.ix.isOpen(m.tree.Row()) {
				t.Error("enter did not fold")
			}
			if !strings.Contains(m.View(), "inet_recvmsg  … ") {
				t.Errorf("folded row shows no count:\n%s", m.View())
			}
			m = press(m, "enter")
			if m.View() != m0.View() {
				t.Error("enter twice does not restore the screen")
			}
		}},
		{km.OpenSubtree, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			ix := m.tree.ix
			for r := range ix.res.Rows {
				if ix.within(int32(r), m.tree.Row()) && ix.find(int32(r)) < 0 {
					t.Fatalf("row %s not listed", ix.res.RowName(int32(r)))
				}
			}
		}},
		{km.CloseSubtree, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			ix := m.tree.ix
			for r := range ix.res.Rows {
				if ix.within(int32(r), m.tree.Row()) && int32(r) != m.tree.Row() && ix.find(int32(r)) >= 0 {
					t.Fatalf("row %s still listed", ix.res.RowName(int32(r)))
				}
			}
		}},
		{km.OpenAll, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			ix := m.tree.ix
			for r := range ix.res.Rows {
				if ix.find(int32(r)) < 0 {
					t.Fatalf("row %s not listed", ix.res.RowName(int32(r)))
				}
			}
			if rowName(m) != "inet_recvmsg" {
				t.Errorf("cursor moved to %q", rowName(m))
			}
		}},
		{km.CloseAll, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			if n := len(m.tree.ix.lines); n != 2 || rowName(m) != "__sys_recvfrom" {
				t.Errorf("%d lines, cursor on %q; want the task and __sys_recvfrom", n, rowName(m))
			}
		}},
		{km.Next, irq, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			if !strings.Contains(m.View(), "divergence 2 of 3 · timing") {
				t.Errorf("n: status %q", m.statusLine())
			}
			if m = press(m, "n", "n"); !strings.Contains(m.statusLine(), "divergence 1 of 3") {
				t.Errorf("n wraps to %q", m.statusLine())
			}
		}},
		{km.Prev, irq, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			if !strings.Contains(m.statusLine(), "divergence 3 of 3 · noise one-sided") {
				t.Errorf("N: status %q", m.statusLine())
			}
		}},
		{km.Search, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			if !m.searching {
				t.Fatal("/ did not open the search")
			}
			m = press(m, strings.Split("tcp_recvmsg", "")...)
			// The first match after the cursor is inside the folded
			// tcp_recvmsg of tcp_bpf_recvmsg: the search unfolds it.
			if rowName(m) != "tcp_recvmsg" || m.res.Rows[m.tree.Row()].Op != diff.OpGoodOnly || !strings.Contains(m.statusLine(), "match 1 of 4") {
				t.Errorf("typing: cursor on %q, status %q", rowName(m), m.statusLine())
			}
			m = press(m, "enter", "n")
			if m.searching || rowName(m) != "tcp_recvmsg_locked" || !strings.Contains(m.statusLine(), "match 2 of 4") {
				t.Errorf("n: cursor on %q, status %q", rowName(m), m.statusLine())
			}
			if m = press(m, "N", "N"); !strings.Contains(m.statusLine(), "match 4 of 4") {
				t.Errorf("N N: cursor on %q, status %q", rowName(m), m.statusLine())
			}
			if m = press(m, "esc"); m.query != "" || !strings.Contains(m.statusLine(), "divergence") {
				t.Errorf("esc: query %q, status %q", m.query, m.statusLine())
			}
		}},
		{km.Focus, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			v := m.View()
			if !strings.HasPrefix(v, "focus: reqlab-srv-158 / reqlab-srv-178 > __sys_recvfrom > sock_recvmsg > inet_recvmsg") {
				t.Errorf("no breadcrumb:\n%s", v)
			}
			if m.tree.cursor != 0 || rowName(m) != "inet_recvmsg" || strings.Contains(v, "fput") {
				t.Errorf("focus shows more than the subtree:\n%s", v)
			}
		}},
		{km.Back, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			if m.View() != m0.View() {
				t.Error("esc with nothing to undo changed the screen")
			}
			m = press(m0, "f", "esc")
			if m.View() != m0.View() {
				t.Errorf("f then esc:\n%s\nwant:\n%s", m.View(), m0.View())
			}
		}},
		{km.Durations, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			v := strings.Split(m.View(), "\n")[lineWith(m.View(), "inet_recvmsg")]
			if strings.Contains(v, "us") {
				t.Error("d did not hide the durations")
			}
		}},
		{km.Raw, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			if !strings.Contains(m.View(), "inet_recvmsg L147") || !strings.Contains(m.View(), "inet_recvmsg L18") {
				t.Errorf("r shows no source lines:\n%s", m.View())
			}
		}},
		{km.IRQ, plain, func(t *testing.T, m0, m Model, cmd tea.Cmd) {
			if cmd == nil || m.busy == "" {
				t.Fatal("i started no comparison")
			}
			m = send(m, runUntilLoaded(t, cmd))
			if !m.res.Options.IRQ || len(m.res.Divergences) != 3 || rowName(m) != "inet_recvmsg" {
				t.Errorf("after i: irq %v, %d divergences, cursor on %q", m.res.Options.IRQ, len(m.res.Divergences), rowName(m))
			}
		}},
		{km.Tasks, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			v := m.View()
			if !m.showTasks || !strings.Contains(v, "task pairs") || !strings.Contains(v, "> reqlab-srv-158 / reqlab-srv-178") {
				t.Errorf("t shows no task list:\n%s", v)
			}
			m = press(m, "enter")
			if m.showTasks || m.pair != 0 || rowName(m) != "task reqlab-srv-158 / reqlab-srv-178" && m.tree.cursor != 0 {
				t.Errorf("enter in the task list: pair %d, cursor on %q", m.pair, rowName(m))
			}
		}},
		{km.Unified, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			if !m.tree.ix.unified || rowName(m) != "inet_recvmsg" {
				t.Error("u did not switch to one pane")
			}
			if m = press(m, "u"); m.tree.ix.unified {
				t.Error("u twice: not two panes")
			}
		}},
		{km.Side, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			m = press(m0, "j", "tab")
			if rowName(m) != "tcp_recvmsg" || !strings.Contains(m.View(), "bad  tcp_recvmsg  444.404us") {
				t.Errorf("tab on the band: cursor on %q", rowName(m))
			}
		}},
		{km.Help, plain, func(t *testing.T, m0, m Model, _ tea.Cmd) {
			v := m.View()
			for _, b := range km.Bindings() {
				if !strings.Contains(v, b.Help().Desc) {
					t.Errorf("help lacks %q", b.Help().Desc)
				}
			}
			if m = press(m, "?"); m.showHelp {
				t.Error("? twice: help still shown")
			}
		}},
		{km.Quit, plain, func(t *testing.T, m0, m Model, cmd tea.Cmd) {
			if cmd == nil {
				t.Fatal("no command")
			}
			if _, ok := cmd().(tea.QuitMsg); !ok {
				t.Error("q does not quit")
			}
		}},
	}
	tested := map[string]bool{}
	for _, c := range cases {
		for _, k := range c.b.Keys() {
			tested[k] = true
			t.Run(c.b.Help().Desc+"/"+k, func(t *testing.T) {
				m0 := start(c.res)
				nm, cmd := m0.Update(keyMsg(k))
				c.check(t, start(c.res), nm.(Model), cmd)
			})
		}
	}
	for _, b := range km.Bindings() {
		for _, k := range b.Keys() {
			if !tested[k] {
				t.Errorf("key %q (%s) has no test", k, b.Help().Desc)
			}
		}
	}
}

// runUntilLoaded runs cmd (and the batches it returns) until it yields the
// comparison's result.
func runUntilLoaded(t *testing.T, cmd tea.Cmd) tea.Msg {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case loadedMsg:
			return msg
		case tea.BatchMsg:
			queue = append(queue, msg...)
		}
	}
	t.Fatal("no result")
	return nil
}
