package diff

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracediff/tracediff/internal/testutil"
	"github.com/tracediff/tracediff/parse"
)

func samplesOf(tr *parse.Trace, root string) []Sample {
	reqs := SplitRequests(tr, root, RequestOptions{})
	out := make([]Sample, len(reqs))
	for i := range reqs {
		out[i] = Sample{Trace: tr, Request: reqs[i]}
	}
	return out
}

// A path in every bad request and no good one outranks a path that takes
// far more time but appears on both sides.
func TestCompareGroupsConsistencyBeatsTotals(t *testing.T) {
	good := c("handle", 10, c("parse", 10), c("slow_common", 900_000))
	bad := c("handle", 10, c("parse", 10), c("slow_common", 900_000), c("slow_path", 50))
	badWithout := c("handle", 10, c("parse", 10), c("slow_path", 50))
	goodWithout := c("handle", 10, c("parse", 10))
	tests := []struct {
		name      string
		good, bad []call
	}{
		{"slow_common everywhere", []call{good, good, good}, []call{bad, bad}},
		{"slow_common in most of both", []call{good, goodWithout, good}, []call{bad, badWithout, bad}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gs := samplesOf(buildRequests(t, "srv", tc.good...), "handle")
			bs := samplesOf(buildRequests(t, "srv", tc.bad...), "handle")
			res := CompareGroups(gs, bs, GroupOptions{})
			if len(res.Separators) == 0 {
				t.Fatal("no separator")
			}
			s := res.Separators[0]
			if s.Edge != (Edge{"handle", "slow_path"}) || s.Score() != 1 {
				t.Errorf("top separator %s (%.2f), want handle -> slow_path (1.00)", s.Summary(), s.Score())
			}
			for i, x := range res.Separators {
				if x.Child == "slow_common" && (i == 0 || x.Score() >= 1) {
					t.Errorf("slow_common ranks %d: %s", i+1, x.Summary())
				}
			}
		})
	}
}

func TestClusterRequestsSynthetic(t *testing.T) {
	a := c("handle", 10, c("recv", 10, c("via_bpf", 10, c("core", 10))))
	b := c("handle", 10, c("recv", 10, c("core", 10)))
	tr := buildRequests(t, "srv", a, b, a, b, b, a)
	ss := samplesOf(tr, "handle")
	splits := ClusterRequests(ss, GroupOptions{}, 0)
	if len(splits) != 1 {
		t.Fatalf("%d splits, want 1", len(splits))
	}
	d := splits[0].Describe(ss)
	if d[0] != "3 requests (#1, #3, #6) call recv -> via_bpf (and 1 more edge)" || d[1] != "3 requests (#2, #4, #5) call recv -> core" {
		t.Errorf("describe:\n%s\n%s", d[0], d[1])
	}
	if !splits[0].Switch {
		t.Error("recv's callee choice is not a switch")
	}
}

// TestGroupsMixed: the corpus's six requests (good, bad, good, removed,
// bad, good) group by the callee inet_recvmsg chooses, and with the bad
// ones labelled, that choice is the top separator.
func TestGroupsMixed(t *testing.T) {
	tr, err := parse.ParseFile(filepath.Join(testutil.CorpusDir(t), "lab", "mixed.report"))
	if err != nil {
		t.Fatal(err)
	}
	ss := samplesOf(tr, "__sys_recvfrom")
	if len(ss) != 6 {
		t.Fatalf("%d requests, want 6", len(ss))
	}
	splits := ClusterRequests(ss, GroupOptions{}, 3)
	d := splits[0].Describe(ss)
	if d[0] != "3 requests (#1, #3, #6) call inet_recvmsg -> tcp_bpf_recvmsg (and 3 more edges)" ||
		d[1] != "3 requests (#2, #4, #5) call inet_recvmsg -> tcp_recvmsg" {
		t.Errorf("first grouping:\n%s\n%s", d[0], d[1])
	}
	var good, bad []Sample
	for i, s := range ss {
		if i == 1 || i == 3 || i == 4 {
			bad = append(bad, s)
		} else {
			good = append(good, s)
		}
	}
	res := CompareGroups(good, bad, GroupOptions{})
	if got := res.Switches[0].Summary(); got != "inet_recvmsg: good -> tcp_bpf_recvmsg, bad -> tcp_recvmsg" {
		t.Errorf("top switch: %s", got)
	}
	top := map[string]bool{res.Separators[0].Summary(): true, res.Separators[1].Summary(): true}
	for _, want := range []string{"inet_recvmsg -> tcp_recvmsg: in 3 of 3 bad, 0 of 3 good", "inet_recvmsg -> tcp_bpf_recvmsg: in 0 of 3 bad, 3 of 3 good"} {
		if !top[want] {
			t.Errorf("top two separators %v lack %q", top, want)
		}
	}
	var buf bytes.Buffer
	if err := res.WriteText(&buf, "__sys_recvfrom", 5); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "3 good requests (#1, #3, #6), 3 bad requests (#2, #4, #5)") {
		t.Errorf("output:\n%s", buf.String())
	}
}

// In a stack capture each stack is a request: the seed's stacks, two good
// and one bad, are told apart by the callee of inet_recvmsg.
func TestGroupsOfStacks(t *testing.T) {
	parseStacks := func(name, text string) []Sample {
		tr, err := parse.Parse(name, strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		reqs := SplitRequests(tr, "", RequestOptions{})
		out := make([]Sample, len(reqs))
		for i := range reqs {
			out[i] = Sample{Trace: tr, Request: reqs[i]}
		}
		return out
	}
	stack := func(leaf string, off int) string {
		return fmt.Sprintf("        %s+1\n        inet_recvmsg+%d\n        __sys_recvfrom+362\n        __x64_sys_recvfrom+37\n        do_syscall_64+48\n        entry_SYSCALL_64_after_hwframe+97\n\n", leaf, off)
	}
	good := parseStacks("good", stack("tcp_bpf_recvmsg", 233)+stack("tcp_bpf_recvmsg", 233))
	bad := parseStacks("bad", "@[\n"+strings.TrimSuffix(stack("tcp_recvmsg", 78), "\n")+"]: 3\n")
	if len(good) != 2 || len(bad) != 3 {
		t.Fatalf("%d good and %d bad requests, want 2 and 3 (a map entry counted 3 times is 3 events)", len(good), len(bad))
	}
	g := CompareGroups(good, bad, GroupOptions{})
	if len(g.Switches) == 0 || g.Switches[0].Summary() != "inet_recvmsg: good -> tcp_bpf_recvmsg, bad -> tcp_recvmsg" {
		t.Fatalf("switches %+v", g.Switches)
	}
}
