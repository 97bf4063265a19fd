package tui

import (
	"fmt"
	"sync"
	"testing"

	"github.com/tracediff/tracediff/diff"
	"github.com/tracediff/tracediff/parse"
)

// synthetic builds a capture of about 1,000,000 calls: 1000 requests of
// 100 mid-level calls of 9 leaves each, names varied so that siblings do
// not fold into runs. The bad side differs in a few requests: a leaf
// substituted, a leaf added, a mid-level call dropped.
func synthetic(path string, bad bool) *parse.Trace {
	b := parse.NewBuilder(path, parse.FormatFtrace, 0)
	task := b.Task(1, []byte("bench"), -1)
	ts, line := int64(0), int32(0)
	step := func() { ts += 1000; line++ }
	for i := 0; i < 1000; i++ {
		step()
		b.Enter(task, []byte("handle_request"), ts, 0, line)
		for k := 0; k < 100; k++ {
			if bad && i == 700 && k == 10 {
				continue
			}
			step()
			b.Enter(task, []byte(fmt.Sprintf("mid_%d", (i+k)%89)), ts, 0, line)
			for l := 0; l < 9; l++ {
				name := fmt.Sprintf("leaf_%d", (i+k+l)%97)
				if bad && (i == 100 || i == 500 || i == 900) && k == 50 && l == 3 {
					name = "other_leaf"
				}
				step()
				b.Leaf(task, []byte(name), ts, 800, 0, line)
				if bad && i == 300 && k == 20 && l == 5 {
					step()
					b.Leaf(task, []byte("extra_leaf"), ts, 800, 0, line)
				}
			}
			step()
			b.Exit(task, nil, ts, 10_000, 0, line)
		}
		step()
		b.Exit(task, nil, ts, 1_000_000, 0, line)
	}
	return b.Finish(int(line))
}

var (
	bigOnce sync.Once
	bigRes  *diff.Result
)

// bigResult compares the synthetic captures once per test binary.
func bigResult(tb testing.TB) *diff.Result {
	tb.Helper()
	bigOnce.Do(func() {
		g, b := synthetic("good", false), synthetic("bad", true)
		res, err := diff.Compare(g, b, diff.Options{})
		if err != nil {
			panic(err)
		}
		bigRes = res
	})
	return bigRes
}

// BenchmarkKey measures one keypress plus View() on a diff of a million
// calls, from the first screen and with every row unfolded.
func BenchmarkKey(b *testing.B) {
	res := bigResult(b)
	b.Logf("%d + %d calls, %d rows, %d divergences", res.Good.Calls(), res.Bad.Calls(), len(res.Rows), len(res.Divergences))
	for _, all := range []bool{false, true} {
		for _, k := range []string{"j", "enter", "n"} {
			name := map[string]string{"j": "down", "enter": "fold", "n": "next"}[k]
			if all {
				name += "/unfolded"
			}
			b.Run(name, func(b *testing.B) {
				m := sized(res, 200, 50)
				if all {
					m = press(m, "O")
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					m = send(m, keyMsg(k))
					_ = m.View()
				}
			})
		}
	}
}
