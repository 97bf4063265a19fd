package diff

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tracediff/tracediff/parse"
)

// filterTrace builds a small trace whose calls each sit on their own line,
// so that a test names the calls a filter selects by their lines:
//
//	line task       cpu call                            duration  notes
//	 1   nginx-100  0   tcp_recvmsg                     2ms       ret 0
//	 2   nginx-100  0     lock_sock                     200ns     leaf
//	 3   nginx-100  0     tcp_bpf_recvmsg.isra.0        150us     ret -11
//	 4   nginx-100  0       __skb_recv_udp              50us      leaf
//	 7   nginx-100  0   __sysvec_apic_timer_interrupt   5us       irq
//	 8   nginx-100  0     hrtimer_interrupt             3us       irq, leaf
//	10   curl-200   1   vfs_read                        1.5s      leaf, ret 0xff..ea (-22)
//	11   curl-200   1   schedule                        unknown   unclosed, lost, leaf
//	12   curl-200   1     sched_switch (an event: never tested)
//	13   sshd-300   2   ksys_write                      10us      orphan, leaf
func filterTrace() *parse.Trace {
	b := parse.NewBuilder("filter.txt", parse.FormatFtrace, 0)
	ng := b.Task(100, []byte("nginx"), 0)
	b.Enter(ng, []byte("tcp_recvmsg"), 1000, 0, 1)
	b.Leaf(ng, []byte("lock_sock"), 1100, 200, 0, 2)
	b.Enter(ng, []byte("tcp_bpf_recvmsg.isra.0"), 1400, 0, 3)
	b.Leaf(ng, []byte("__skb_recv_udp"), 1500, 50000, 0, 4)
	b.SetRet(b.Exit(ng, []byte("tcp_bpf_recvmsg.isra.0"), 151400, 150000, 0, 5), "-11")
	b.SetRet(b.Exit(ng, nil, 2001000, 2000000, 0, 6), "0")
	b.Enter(ng, []byte("__sysvec_apic_timer_interrupt"), 3000000, 0, 7)
	b.Leaf(ng, []byte("hrtimer_interrupt"), 3001000, 3000, 0, 8)
	b.Exit(ng, nil, 3005000, 5000, 0, 9)
	cu := b.Task(200, []byte("curl"), 1)
	b.SetRet(b.Leaf(cu, []byte("vfs_read"), 4000000, 1500000000, 1, 10), "0xffffffffffffffea")
	b.Enter(cu, []byte("schedule"), 1504000000, 1, 11)
	b.Event(cu, []byte("sched_switch"), "prev_comm=curl", 1504000100, 1, 12)
	b.LostEvents(1, 5, 12)
	ss := b.Task(300, []byte("sshd"), 2)
	b.Exit(ss, []byte("ksys_write"), 1600000000, 10000, 2, 13)
	return b.Finish(13)
}

// matchedLines returns the lines of the calls (events excluded) that f
// selects, by both the bound and the unbound matcher.
func matchedLines(t *testing.T, f *Filter, tr *parse.Trace) []int32 {
	t.Helper()
	bf := f.Bind(tr)
	var lines []int32
	for id := range tr.Nodes {
		n := &tr.Nodes[id]
		if n.Flags&parse.FlagEvent != 0 {
			continue
		}
		got := bf.Match(parse.NodeID(id))
		if got2 := f.Match(tr, parse.NodeID(id)); got2 != got {
			t.Errorf("%s: line %d: Bind(t).Match = %v, Match = %v", f, n.Line, got, got2)
		}
		if got {
			lines = append(lines, n.Line)
		}
	}
	slices.Sort(lines)
	return lines
}

func TestFilterMatch(t *testing.T) {
	tr := filterTrace()
	all := []int32{1, 2, 3, 4, 7, 8, 10, 11, 13}
	tests := []struct {
		expr  string
		canon string // String(); "" when it is expr itself
		want  []int32
	}{
		{`comm == "nginx"`, "", []int32{1, 2, 3, 4, 7, 8}},
		{`comm == "nginx" && duration > 100us && !irq`, "", []int32{1, 3}},
		{`comm != "nginx"`, "", []int32{10, 11, 13}},
		{`comm =~ "^(curl|sshd)$"`, "", []int32{10, 11, 13}},
		{`comm == "curl" || comm == "sshd"`, "", []int32{10, 11, 13}},
		{`comm == "ngin"`, "", nil},
		// name is the normalised name, raw the name as printed.
		{`name == "tcp_bpf_recvmsg"`, "", []int32{3}},
		{`func == "tcp_bpf_recvmsg"`, `name == "tcp_bpf_recvmsg"`, []int32{3}},
		{`raw == "tcp_bpf_recvmsg"`, "", nil},
		{`raw == "tcp_bpf_recvmsg.isra.0"`, "", []int32{3}},
		{`raw =~ "\\.isra\\."`, "", []int32{3}},
		{`func =~ "^tcp_"`, `name =~ "^tcp_"`, []int32{1, 3}},
		{`name !~ "interrupt"`, "", []int32{1, 2, 3, 4, 10, 11, 13}},
		{`pid == 200`, "", []int32{10, 11}},
		{`pid != 100 && cpu >= 1`, "", []int32{10, 11, 13}},
		{`pid == 0xc8`, `pid == 200`, []int32{10, 11}},
		{`cpu < 1`, "", []int32{1, 2, 3, 4, 7, 8}},
		// Durations: units, bare nanoseconds, unknown durations match no
		// comparison (but do match its negation).
		{`duration >= 1.5s`, "", []int32{10}},
		{`duration >= 1500ms`, `duration >= 1.5s`, []int32{10}},
		{`duration == 150000`, `duration == 150us`, []int32{3}},
		{`duration == 0.15ms`, `duration == 150us`, []int32{3}},
		{`duration > 2.5µs && duration <= 5us`, `duration > 2.5us && duration <= 5us`, []int32{7, 8}},
		{`duration < 1us`, `duration < 1us`, []int32{2}},
		{`!(duration < 1us)`, "", []int32{1, 3, 4, 7, 8, 10, 11, 13}},
		{`duration > 1000000s`, "", nil},
		{`depth == 1`, "", []int32{2, 3, 8}},
		{`depth > 1`, "", []int32{4}},
		{`line <= 3`, "", []int32{1, 2, 3}},
		// ret is a string, or an integer when compared with a number;
		// calls without a printed return value match neither.
		{`ret == "0"`, "", []int32{1}},
		{`ret != "0"`, "", []int32{3, 10}},
		{`ret < 0`, "", []int32{3, 10}},
		{`ret == -22`, "", []int32{10}},
		{`ret =~ "^0x"`, "", []int32{10}},
		// Flags.
		{`irq`, "", []int32{7, 8}},
		{`orphan`, "", []int32{13}},
		{`unclosed`, "", []int32{11}},
		{`lost`, "", []int32{11}},
		{`leaf`, "", []int32{2, 4, 8, 10, 11, 13}},
		{`!leaf && !irq`, "", []int32{1, 3}},
		{`!!irq`, "", []int32{7, 8}},
		// Precedence: ! binds tighter than &&, && tighter than ||.
		{`irq || orphan && duration > 5us`, "", []int32{7, 8, 13}},
		{`(irq || orphan) && duration > 4us`, "", []int32{7, 13}},
		{`((irq))`, `irq`, []int32{7, 8}},
		{`irq && (lost || (orphan && leaf))`, `irq && (lost || orphan && leaf)`, nil},
		{`leaf && (lost || orphan && leaf)`, "", []int32{11, 13}},
		{`irq || (lost || orphan)`, `irq || lost || orphan`, []int32{7, 8, 11, 13}},
		{`!comm == "nginx"`, `!(comm == "nginx")`, []int32{10, 11, 13}},
		{`!(irq || leaf)`, "", []int32{1, 3}},
		{"cpu==0&&!leaf", `cpu == 0 && !leaf`, []int32{1, 3, 7}},
		{"\tcomm\n== \"nginx\"  ", `comm == "nginx"`, []int32{1, 2, 3, 4, 7, 8}},
		{`comm == "ng\x69nx"`, `comm == "nginx"`, []int32{1, 2, 3, 4, 7, 8}},
		{`pid > -1`, "", []int32{1, 2, 3, 4, 7, 8, 10, 11, 13}},
	}
	for _, tc := range tests {
		f, err := ParseFilter(tc.expr)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tc.expr, err)
			continue
		}
		canon := tc.canon
		if canon == "" {
			canon = tc.expr
		}
		if s := f.String(); s != canon {
			t.Errorf("ParseFilter(%q).String() = %q, want %q", tc.expr, s, canon)
		}
		if got := matchedLines(t, f, tr); !slices.Equal(got, tc.want) {
			t.Errorf("%q selects lines %v, want %v (of %v)", tc.expr, got, tc.want, all)
		}
	}
}

func TestFilterErrors(t *testing.T) {
	tests := []struct {
		expr string
		want string // the error text: message, expression, caret line
	}{
		{`comm == "nginx" && duration > && !irq`, `
--where: expected a value after ">", found "&&"
comm == "nginx" && duration > && !irq
                              ^`},
		{``, `
--where: empty expression

^`},
		{`   `, `
--where: empty expression
   
^`},
		{`comm == "nginx`, `
--where: string not terminated
comm == "nginx
        ^`},
		{`comm = "nginx"`, `
--where: unknown operator "=": use "=="
comm = "nginx"
     ^`},
		{`irq & lost`, `
--where: unknown operator "&": use "&&"
irq & lost
    ^`},
		{`irq | lost`, `
--where: unknown operator "|": use "||"
irq | lost
    ^`},
		{`irq &&`, `
--where: expected a condition after "&&", found the end of the expression
irq &&
      ^`},
		{`irq || || lost`, `
--where: expected a condition after "||", found "||"
irq || || lost
       ^`},
		{`&& irq`, `
--where: expected a condition, found "&&"
&& irq
^`},
		{`!`, `
--where: expected a condition after "!", found the end of the expression
!
 ^`},
		{`(irq`, `
--where: expected "&&", "||" or ")" after "irq", found the end of the expression
(irq
    ^`},
		{`irq)`, `
--where: ")" without a matching "("
irq)
   ^`},
		{`()`, `
--where: expected a condition after "(", found ")"
()
 ^`},
		{`irq lost`, `
--where: expected "&&", "||" or the end after "irq", found "lost"
irq lost
    ^`},
		{`comm "nginx"`, `
--where: expected a comparison after "comm", found string "nginx"
comm "nginx"
     ^`},
		{`pid ==`, `
--where: expected a value after "==", found the end of the expression
pid ==
      ^`},
		{`comm == nginx`, `
--where: expected a value after "==", found "nginx" (strings take double quotes)
comm == nginx
        ^`},
		{`comm == "a" # note`, `
--where: unexpected character "#"
comm == "a" # note
            ^`},
		{`foo == 1`, `
--where: unknown field "foo" (fields: comm, pid, cpu, name, func, raw, ret, duration, depth, line, irq, orphan, unclosed, lost, leaf)
foo == 1
^`},
		{`irq && duration > "100us"`, `
--where: duration takes a duration such as 100us, found string "100us"
irq && duration > "100us"
                  ^`},
		{`comm < "nginx"`, `
--where: "<" does not apply to strings: use ==, !=, =~ or !~
comm < "nginx"
     ^`},
		{`pid =~ "1"`, `
--where: pid takes an integer, found string "1"
pid =~ "1"
       ^`},
		{`pid =~ 1`, `
--where: "=~" applies to strings only
pid =~ 1
    ^`},
		{`comm == 1`, `
--where: comm takes a string in double quotes, found "1"
comm == 1
        ^`},
		{`irq == 1`, `
--where: irq is a flag and takes no comparison: write irq or !irq
irq == 1
    ^`},
		{`!comm`, `
--where: comm is not a flag: compare it with a value, as in comm == "nginx"
!comm
 ^`},
		{`duration`, `
--where: duration is not a flag: compare it with a value, as in duration > 100us
duration
^`},
		{`duration > 100ux`, `
--where: duration takes a duration such as 100us, found "100ux": unknown unit "ux" (units: ns, us, ms, s)
duration > 100ux
           ^`},
		{`duration > 1.5`, `
--where: duration takes a duration such as 100us, found "1.5": finer than a nanosecond
duration > 1.5
           ^`},
		{`duration > 1.2.3s`, `
--where: duration takes a duration such as 100us, found "1.2.3s": not a number
duration > 1.2.3s
           ^`},
		{`duration > 99999999999s`, `
--where: duration takes a duration such as 100us, found "99999999999s": out of range
duration > 99999999999s
           ^`},
		{`cpu == 1.5`, `
--where: cpu takes an integer, found "1.5": not an integer
cpu == 1.5
       ^`},
		{`pid == 99999999999999999999`, `
--where: pid takes an integer, found "99999999999999999999": out of range
pid == 99999999999999999999
       ^`},
		{`name =~ "tcp_(recv"`, "\n--where: bad regular expression: missing closing ): `tcp_(recv`\nname =~ \"tcp_(recv\"\n        ^"},
		{`name == "\q"`, `
--where: bad string "\q": invalid syntax
name == "\q"
        ^`},
		// The caret counts characters, not bytes; control characters
		// print as spaces.
		{`comm == "nginx" && nom == "é"`, `
--where: unknown field "nom" (fields: comm, pid, cpu, name, func, raw, ret, duration, depth, line, irq, orphan, unclosed, lost, leaf)
comm == "nginx" && nom == "é"
                   ^`},
		{`comm == "é" &&`, `
--where: expected a condition after "&&", found the end of the expression
comm == "é" &&
              ^`},
		{"irq &&\n\tlost lost", `
--where: expected "&&", "||" or the end after "lost", found "lost"
irq &&  lost lost
             ^`},
		{strings.Repeat("!", 300) + "irq", `
--where: more than 256 parentheses and negations
` + strings.Repeat("!", 300) + `irq
` + strings.Repeat(" ", 256) + `^`},
	}
	for _, tc := range tests {
		f, err := ParseFilter(tc.expr)
		if err == nil {
			t.Errorf("ParseFilter(%q) = %s, want an error", tc.expr, f)
			continue
		}
		want := strings.TrimPrefix(tc.want, "\n")
		if err.Error() != want {
			t.Errorf("ParseFilter(%q) error:\n%s\nwant:\n%s", tc.expr, err, want)
		}
		var fe *FilterError
		if !errors.As(err, &fe) || fe.Expr != tc.expr || fe.Pos < 0 || fe.Pos > len(tc.expr) {
			t.Errorf("ParseFilter(%q): error %#v is not a *FilterError with a position in the expression", tc.expr, err)
		}
	}
}

func TestFilterDurations(t *testing.T) {
	for _, tc := range []struct {
		in    string
		ns    int64
		canon string
	}{
		{"500ns", 500, "500ns"}, {"500", 500, "500ns"}, {"1us", 1000, "1us"}, {"1µs", 1000, "1us"},
		{"1.5s", 1500000000, "1.5s"}, {"2ms", 2000000, "2ms"}, {"0.000001ms", 1, "1ns"},
		{"1.000000001s", 1000000001, "1.000000001s"}, {"0", 0, "0ns"}, {"-3us", -3000, "-3us"},
		{"9223372036.854775807s", 1<<63 - 1, "9223372036.854775807s"}, {"1.50s", 1500000000, "1.5s"},
		{"1.0000000000s", 1000000000, "1s"},
	} {
		ns, err := fltParseDuration(tc.in)
		if err != nil || ns != tc.ns {
			t.Errorf("fltParseDuration(%q) = %d, %v; want %d", tc.in, ns, err, tc.ns)
		}
		if s := fltFormatDuration(ns); s != tc.canon {
			t.Errorf("fltFormatDuration(%d) = %q, want %q", ns, s, tc.canon)
		}
	}
}

func TestFilterNil(t *testing.T) {
	var f *Filter
	tr := filterTrace()
	if !f.Bind(tr).Match(0) || !f.Match(tr, 0) || f.String() != "" {
		t.Error("a nil Filter must match every call and print as \"\"")
	}
}

// FuzzFilter checks that no expression makes the parser or the matcher
// panic, that errors point into the expression, and that the canonical
// form of a filter parses back to itself.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{
		`comm == "nginx" && duration > 100us && !irq`,
		`comm == "nginx" && duration > && !irq`,
		`(irq || orphan) && !(name =~ "^tcp_" || raw !~ "\\.isra") && depth <= 3`,
		`ret < 0 || ret == "-22" && pid != 0x10 && cpu >= 1 && line > 2`,
		`duration >= 1.5s && duration < 9223372036.854775807s || duration == 0.1us`,
		`!!leaf && lost || unclosed`, `func == "a\tb\u00e9\xff"`, `irq)`, `((`, `comm = "x"`,
	} {
		f.Add(s)
	}
	tr := filterTrace()
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := ParseFilter(expr)
		if err != nil {
			var fe *FilterError
			if !errors.As(err, &fe) || fe.Pos < 0 || fe.Pos > len(expr) || fe.Msg == "" {
				t.Fatalf("ParseFilter(%q): bad error %#v", expr, err)
			}
			if strings.HasPrefix(fe.Msg, "internal error") {
				t.Fatalf("ParseFilter(%q): %v", expr, err)
			}
			_ = err.Error()
			return
		}
		s := flt.String()
		again, err := ParseFilter(s)
		if err != nil {
			t.Fatalf("ParseFilter(%q).String() = %q does not parse: %v", expr, s, err)
		}
		if s2 := again.String(); s2 != s {
			t.Fatalf("ParseFilter(%q): canonical form %q re-parses as %q", expr, s, s2)
		}
		bf, bf2 := flt.Bind(tr), again.Bind(tr)
		for id := range tr.Nodes {
			if a, b := bf.Match(parse.NodeID(id)), bf2.Match(parse.NodeID(id)); a != b {
				t.Fatalf("%q and its canonical form %q disagree on node %d", expr, s, id)
			}
		}
	})
}

// filterBenchTrace builds a trace of about a million calls: request trees
// of 8 calls over a few hundred names and a few tasks.
func filterBenchTrace(calls int) *parse.Trace {
	b := parse.NewBuilder("bench.txt", parse.FormatTraceCmd, int64(calls)*160)
	comms := []string{"nginx", "curl", "sshd", "kworker/0:1"}
	var tasks []int32
	for i, c := range comms {
		tasks = append(tasks, b.Task(int32(100+i), []byte(c), int16(i)))
	}
	names := make([][]byte, 512)
	for i := range names {
		prefix := []string{"tcp_", "vfs_", "ext4_", "__x64_sys_"}[i%4]
		names[i] = fmt.Appendf(nil, "%sfunc%d.isra.0", prefix, i)
	}
	ts := int64(0)
	line := int32(0)
	for n := 0; n < calls; {
		task := tasks[n/8%len(tasks)]
		cpu := int16(n / 8 % len(tasks))
		line++
		b.Enter(task, names[n%len(names)], ts, cpu, line)
		n++
		for k := 0; k < 6; k++ {
			line++
			b.Leaf(task, names[(n*7+k)%len(names)], ts, int64(n*37%200000), cpu, line)
			n++
		}
		line++
		b.Exit(task, nil, ts+300000, int64(n*13%400000), cpu, line)
		n++
		ts += 500000
	}
	return b.Finish(int(line))
}

// BenchmarkFilterMatch matches every call of a million-call trace; one op is
// the whole trace.
func BenchmarkFilterMatch(b *testing.B) {
	tr := filterBenchTrace(1 << 20)
	f, err := ParseFilter(`comm == "nginx" && duration > 100us && !irq && name =~ "^tcp_" || depth > 0 && ret < 0`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	hits := 0
	for b.Loop() {
		bf := f.Bind(tr)
		hits = 0
		for id := range tr.Nodes {
			if bf.Match(parse.NodeID(id)) {
				hits++
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(tr.Nodes)), "ns/call")
	if hits == 0 {
		b.Fatal("the filter matched nothing")
	}
}
