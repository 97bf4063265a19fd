package tui

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTmux runs the real binary in a real terminal: tmux at 120x40 on the
// sockmap example. It is skipped when tmux is not installed (CI installs
// it) or with -short.
func TestTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("TRACEDIFF_REQUIRE_TERMINAL") != "" {
			t.Fatal("tmux not installed, and TRACEDIFF_REQUIRE_TERMINAL is set")
		}
		t.Skip("tmux not installed")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "tracediff")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/tracediff").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	gp, bp := sockmapPaths(t)
	status := filepath.Join(dir, "status")
	sock := filepath.Join(dir, "tmux.sock")
	tmux := func(args ...string) string {
		out, err := exec.Command("tmux", append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	script := fmt.Sprintf("%s -i %s %s; echo $? > %s; sleep 60", bin, gp, bp, status)
	tmux("-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "40", "-s", "td", "env", "TERM=xterm-256color", "sh", "-c", script)
	t.Cleanup(func() { exec.Command("tmux", "-S", sock, "kill-server").Run() })
	screen := func(want string) string {
		t.Helper()
		var s string
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if s = tmux("capture-pane", "-p", "-t", "td"); strings.Contains(s, want) {
				return s
			}
		}
		t.Fatalf("screen never showed %q:\n%s", want, s)
		return s
	}
	s := screen("divergence 1 of 1")
	if !band.MatchString(s) {
		t.Errorf("first screen has no band with tcp_bpf_recvmsg left and tcp_recvmsg right:\n%s", s)
	}
	tmux("send-keys", "-t", "td", "i")
	screen("divergence 1 of 3")
	tmux("send-keys", "-t", "td", "n")
	screen("divergence 2 of 3")
	tmux("send-keys", "-t", "td", "q")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		b, err := os.ReadFile(status)
		if err == nil && len(b) > 0 {
			if got := strings.TrimSpace(string(b)); got != "0" {
				t.Errorf("exit status %s, want 0", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tracediff did not exit after q:\n%s", tmux("capture-pane", "-p", "-t", "td"))
		}
	}
}
