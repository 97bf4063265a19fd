package tui

import (
	"bytes"
	"io"
	"regexp"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/tracediff/tracediff/diff"
)

// band matches a screen line with tcp_bpf_recvmsg in the left pane and
// tcp_recvmsg in the right one.
var band = regexp.MustCompile(`tcp_bpf_recvmsg[^\n]*│[^\n]*tcp_recvmsg`)

// program runs a model in a real tea.Program with a fake terminal, as
// teatest does. (teatest itself is not used: its golden package registers
// a second -update flag in the test binary.)
type program struct {
	p    *tea.Program
	out  syncBuf
	done chan tea.Model
	err  error
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}

func startProgram(t *testing.T, m tea.Model, w, h int) *program {
	t.Helper()
	pr := &program{done: make(chan tea.Model, 1)}
	in, _ := io.Pipe()
	pr.p = tea.NewProgram(m, tea.WithInput(in), tea.WithOutput(&pr.out), tea.WithoutSignals())
	go func() {
		fm, err := pr.p.Run()
		pr.err = err
		pr.done <- fm
	}()
	pr.p.Send(tea.WindowSizeMsg{Width: w, Height: h})
	t.Cleanup(func() { pr.p.Kill() })
	return pr
}

// waitFor waits until the output written so far satisfies cond.
func (pr *program) waitFor(t *testing.T, what string, cond func([]byte) bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond(pr.out.Bytes()) {
			return
		}
	}
	t.Fatalf("screen never showed %s; output:\n%s", what, pr.out.Bytes())
}

func (pr *program) key(k string) { pr.p.Send(keyMsg(k)) }

// wait returns the final model after the program quits.
func (pr *program) wait(t *testing.T) Model {
	t.Helper()
	select {
	case fm := <-pr.done:
		if pr.err != nil {
			t.Fatal(pr.err)
		}
		return fm.(Model)
	case <-time.After(10 * time.Second):
		t.Fatal("the program did not quit")
	}
	return Model{}
}

func contains(s string) func([]byte) bool {
	return func(b []byte) bool { return bytes.Contains(b, []byte(s)) }
}

// TestFlow runs the program as Run does, at 120x40 on the sockmap example:
// loading in a tea.Cmd, the first screen on divergence 1 with the
// substitution in one band, i to show interrupt subtrees, n to the next
// divergence, q to quit.
func TestFlow(t *testing.T) {
	gp, bp := sockmapPaths(t)
	pr := startProgram(t, Load(gp, bp, diff.Options{}).WithStyles(PlainStyles()), 120, 40)
	pr.waitFor(t, "divergence 1 with its band", func(b []byte) bool {
		return bytes.Contains(b, []byte("divergence 1 of 1 · substitution · inet_recvmsg: good -> tcp_bpf_recvmsg, bad -> tcp_recvmsg")) && band.Match(b)
	})
	pr.key("i")
	pr.waitFor(t, "divergence 1 of 3", contains("divergence 1 of 3"))
	pr.key("n")
	pr.waitFor(t, "divergence 2 of 3", contains("divergence 2 of 3 · timing"))
	pr.key("q")
	fm := pr.wait(t)
	if fm.Err() != nil {
		t.Fatal(fm.Err())
	}
	if r := fm.tree.Row(); fm.res.RowName(r) != "__rcu_read_lock" {
		t.Errorf("final cursor on %q", fm.res.RowName(r))
	}
}

// TestFlowError shows a load error, and the model returns it.
func TestFlowError(t *testing.T) {
	pr := startProgram(t, Load("testdata/does-not-exist", "testdata/nor-this", diff.Options{}).WithStyles(PlainStyles()), 80, 24)
	pr.waitFor(t, "the error", contains("press any key to quit"))
	pr.key("x")
	if fm := pr.wait(t); fm.Err() == nil {
		t.Error("no error")
	}
}
