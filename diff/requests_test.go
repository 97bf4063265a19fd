package diff

import (
	"regexp"
	"testing"

	"github.com/tracediff/tracediff/parse"
)

// call is a synthetic call tree for tests: a name, its own duration in ns
// (added to its callees'), and its callees.
type call struct {
	name string
	self int64
	kids []call
}

func c(name string, self int64, kids ...call) call { return call{name, self, kids} }

// buildRequests builds a one-task trace whose roots are the given calls,
// one after the other, 1us apart. Calls named like interrupt entry points
// are flagged as interrupt work by the builder, as in a real capture.
func buildRequests(tb testing.TB, comm string, roots ...call) *parse.Trace {
	tb.Helper()
	b := parse.NewBuilder("synthetic", parse.FormatTraceCmd, 0)
	task := b.Task(100, []byte(comm), 0)
	var ts int64 = 1_000_000
	line := int32(1)
	var emit func(x call) int64
	emit = func(x call) int64 {
		start := ts
		if len(x.kids) == 0 {
			ts += x.self
			b.Leaf(task, []byte(x.name), start, x.self, 0, line)
			line++
			return x.self
		}
		b.Enter(task, []byte(x.name), start, 0, line)
		line++
		ts += x.self
		for _, k := range x.kids {
			emit(k)
		}
		d := ts - start
		b.Exit(task, nil, ts, d, 0, line)
		line++
		return d
	}
	for _, r := range roots {
		emit(r)
		ts += 1000
	}
	return b.Finish(int(line))
}

func TestSplitRequests(t *testing.T) {
	warm := c("__x64_sys_read", 1000, c("vfs_read", 500, c("filemap_read", 2000)))
	nested := c("__x64_sys_read", 1000, c("do_something", 10, c("__x64_sys_read.isra.0", 10)))
	tr := buildRequests(t, "reader", warm, c("other_root", 5), nested, warm)
	reqs := SplitRequests(tr, "__x64_sys_read", RequestOptions{})
	if len(reqs) != 3 {
		t.Fatalf("got %d requests, want 3 (nested calls belong to the outer one)", len(reqs))
	}
	for i, q := range reqs {
		if q.Index != i || q.Number() != i+1 {
			t.Errorf("request %d: index %d number %d", i, q.Index, q.Number())
		}
		if got := tr.NameOf(q.Node); got != "__x64_sys_read" {
			t.Errorf("request %d: root %q", i, got)
		}
		if i > 0 && q.Entry <= reqs[i-1].Entry {
			t.Errorf("requests not in time order")
		}
	}
	if reqs[0].Duration != 3500 || reqs[0].Line != 1 {
		t.Errorf("first request: duration %d line %d, want 3500 at line 1", reqs[0].Duration, reqs[0].Line)
	}
	if got := SplitRequests(tr, "no_such_function", RequestOptions{}); len(got) != 0 {
		t.Errorf("unknown root: %d requests", len(got))
	}
	if got := SplitRequests(tr, "__x64_sys_read", RequestOptions{Task: "someone-else"}); len(got) != 0 {
		t.Errorf("task selection ignored: %d requests", len(got))
	}
}

func TestSplitRequestsByMarker(t *testing.T) {
	b := parse.NewBuilder("synthetic", parse.FormatTraceCmd, 0)
	task := b.Task(7, []byte("srv"), 0)
	b.Event(task, []byte("print"), "request begin id=1", 100, 0, 1)
	b.Leaf(task, []byte("a"), 110, 10, 0, 2)
	b.Leaf(task, []byte("b"), 130, 20, 0, 3)
	b.Event(task, []byte("print"), "something else", 160, 0, 4)
	b.Event(task, []byte("print"), "request begin id=2", 200, 0, 5)
	b.Leaf(task, []byte("a"), 210, 10, 0, 6)
	tr := b.Finish(6)
	reqs := SplitRequests(tr, "", RequestOptions{Marker: regexp.MustCompile(`request begin`)})
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want 2", len(reqs))
	}
	if len(reqs[0].Roots) != 2 || reqs[0].Duration != 50 || reqs[0].Line != 1 {
		t.Errorf("first request: %d roots, duration %d, line %d; want 2, 50, 1", len(reqs[0].Roots), reqs[0].Duration, reqs[0].Line)
	}
	if len(reqs[1].Roots) != 1 || reqs[1].Marker != "request begin id=2" {
		t.Errorf("second request: %+v", reqs[1])
	}
}
