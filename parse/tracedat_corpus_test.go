package parse

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tracediff/tracediff/internal/testutil"
)

// TestTraceDatMatchesReport reads every trace.dat of the corpus and checks
// that the model equals the one read from the `trace-cmd report` output made
// from the same file: same tasks, same calls in the same order with the
// same names, flags, CPUs and report line numbers, and durations and entry
// times equal to the report's microseconds.
func TestTraceDatMatchesReport(t *testing.T) {
	dir := filepath.Join(testutil.CorpusDir(t), "lab")
	for _, dat := range testutil.Glob(t, filepath.Join(dir, "*.dat")) {
		base := strings.TrimSuffix(filepath.Base(dat), ".dat")
		t.Run(base, func(t *testing.T) {
			if base == "large" && testing.Short() {
				t.Skip("large capture skipped in -short mode")
			}
			report := ""
			for _, ext := range []string{".report", ".report.gz", ".report.zst"} {
				if _, err := os.Stat(filepath.Join(dir, base+ext)); err == nil {
					report = filepath.Join(dir, base+ext)
					break
				}
			}
			if report == "" {
				t.Fatalf("no trace-cmd report beside %s", dat)
			}
			got, err := ParseTraceDatFile(dat)
			if err != nil {
				t.Fatal(err)
			}
			want := reportModel(t, report)
			compareModels(t, got, want)
		})
	}
}

// reportModel reads a trace-cmd report with the package's own parser, or,
// when that finds no call, with reportForTest.
func reportModel(t *testing.T, path string) *Trace {
	t.Helper()
	if tr, err := ParseFile(path); err == nil && tr.Calls() > 0 {
		return tr
	}
	t.Logf("%s: the trace-cmd report parser found no call; using the test's reader", filepath.Base(path))
	tr, err := reportForTest(path)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// reportForTest is a minimal reader of trace-cmd report function_graph
// lines ("comm-pid [cpu] secs.usecs: funcgraph_entry: dur us | name() {"),
// enough to build the model the trace.dat reader is compared with.
func reportForTest(path string) (*Trace, error) {
	r, size, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b := NewBuilder(path, FormatTraceCmd, size)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if n == 1 && bytes.HasPrefix(line, []byte("cpus=")) {
			b.Header(string(line))
			continue
		}
		lb := bytes.IndexByte(line, '[')
		rb := bytes.IndexByte(line, ']')
		if lb < 0 || rb < lb {
			continue
		}
		who := bytes.TrimSpace(line[:lb])
		dash := bytes.LastIndexByte(who, '-')
		pid, _ := strconv.Atoi(string(who[dash+1:]))
		cpu, _ := strconv.Atoi(string(line[lb+1 : rb]))
		rest := line[rb+1:]
		colon := bytes.IndexByte(rest, ':')
		secs := strings.TrimSpace(string(rest[:colon]))
		dot := strings.IndexByte(secs, '.')
		s, _ := strconv.ParseInt(secs[:dot], 10, 64)
		us, _ := strconv.ParseInt(secs[dot+1:], 10, 64)
		ts := s*1e9 + us*1e3
		rest = rest[colon+1:]
		colon = bytes.IndexByte(rest, ':')
		event := string(bytes.TrimSpace(rest[:colon]))
		rest = rest[colon+1:]
		task := b.Task(int32(pid), who[:dash], int16(cpu))
		if pid == 0 {
			task = b.TaskOnCPU(0, who[:dash], int16(cpu))
		}
		bar := bytes.IndexByte(rest, '|')
		if bar < 0 || !strings.HasPrefix(event, "funcgraph_") {
			b.Event(task, []byte(event), string(bytes.TrimSpace(rest)), ts, int16(cpu), int32(n))
			continue
		}
		dur := int64(-1)
		if f := strings.Fields(strings.Trim(string(rest[:bar]), " +!#$@*&")); len(f) > 0 {
			whole, frac, _ := strings.Cut(f[0], ".")
			u, _ := strconv.ParseInt(whole, 10, 64)
			ns, _ := strconv.ParseInt(frac, 10, 64)
			dur = u*1000 + ns
		}
		body := bytes.TrimSpace(rest[bar+1:])
		switch {
		case bytes.HasSuffix(body, []byte("() {")):
			b.Enter(task, body[:len(body)-4], ts, int16(cpu), int32(n))
		case bytes.HasSuffix(body, []byte("();")):
			b.Leaf(task, body[:len(body)-3], ts, dur, int16(cpu), int32(n))
		case bytes.HasPrefix(body, []byte("}")):
			b.Exit(task, nil, ts, dur, int16(cpu), int32(n))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return b.Finish(n), nil
}

// compareModels reports where two models of the same capture differ.
func compareModels(t *testing.T, got, want *Trace) {
	t.Helper()
	if len(got.Tasks) != len(want.Tasks) || got.Calls() != want.Calls() {
		t.Errorf("got %d tasks and %d calls, want %d tasks and %d calls", len(got.Tasks), got.Calls(), len(want.Tasks), want.Calls())
	}
	bad := 0
	for ti := 0; ti < len(got.Tasks) && ti < len(want.Tasks); ti++ {
		gt, wt := &got.Tasks[ti], &want.Tasks[ti]
		if gt.Label() != wt.Label() || gt.Calls != wt.Calls {
			t.Errorf("task %d: got %s with %d calls, want %s with %d calls", ti, gt.Label(), gt.Calls, wt.Label(), wt.Calls)
			bad++
			continue
		}
		// Walk both forests in step.
		type pair struct{ g, w NodeID }
		stack := []pair{{gt.First, wt.First}}
		for len(stack) > 0 && bad < 10 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if p.g == None || p.w == None {
				if p.g != p.w {
					t.Errorf("task %s: got %s, want %s", gt.Label(), nodeDesc(got, p.g), nodeDesc(want, p.w))
					bad++
				}
				continue
			}
			g, w := &got.Nodes[p.g], &want.Nodes[p.w]
			const flags = FlagIRQ | FlagOrphan | FlagUnclosed | FlagLost | FlagEvent
			if got.NameOf(p.g) != want.NameOf(p.w) || g.Flags&flags != w.Flags&flags || g.CPU != w.CPU || g.Line != w.Line ||
				!closeNS(g.Duration, w.Duration, 1000) || !closeNS(g.Entry, w.Entry, 2000) {
				t.Errorf("task %s: got %s, want %s", gt.Label(), nodeDesc(got, p.g), nodeDesc(want, p.w))
				bad++
			}
			stack = append(stack, pair{g.NextSibling, w.NextSibling}, pair{g.FirstChild, w.FirstChild})
		}
	}
	if bad >= 10 {
		t.Fatal("too many differences")
	}
}

func closeNS(a, b, tol int64) bool {
	if a < 0 || b < 0 {
		return a < 0 && b < 0
	}
	d := a - b
	return d > -tol && d < tol
}

func nodeDesc(t *Trace, id NodeID) string {
	if id == None {
		return "nothing"
	}
	n := &t.Nodes[id]
	return t.PathOf(id) + " dur=" + FormatDuration(n.Duration) + " entry=" + strconv.FormatInt(n.Entry, 10) +
		" cpu" + strconv.Itoa(int(n.CPU)) + " L" + strconv.Itoa(int(n.Line)) + " [" + flagString(n.Flags) + "]"
}
