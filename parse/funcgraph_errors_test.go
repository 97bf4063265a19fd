package parse

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestFuncgraphEdges is the table of bad, partial and odd inputs: errors
// and warnings are matched by substring and name file:line.
func TestFuncgraphEdges(t *testing.T) {
	const (
		tcEntry = "      reqlab-srv-158   [001]    23.090570: funcgraph_entry:                   |      inet_recvmsg() {\n"
		tcLeaf  = "      reqlab-srv-158   [001]    23.090659: funcgraph_entry:        3.507 us   |        __rcu_read_lock();\n"
		tcExit  = "      reqlab-srv-158   [001]    23.092163: funcgraph_exit:       # 1592.758 us |      }\n"
		ftEntry = " 0)               |  inet_recvmsg() {\n"
		ftLeaf  = " 0)   3.296 us    |    __rcu_read_lock();\n"
		ftExit  = " 0) + 24.647 us   |  }\n"
	)
	tests := []struct {
		name     string
		in       string
		err      string   // substring of the error, "" for none
		is       error    // the error wraps it
		format   Format   // when no error
		calls    int      // when no error
		warnings []string // substrings, each of some warning
		flags    map[string]Flags
		other    bool // another format's input: not read as function_graph
	}{
		{name: "empty", in: "", err: "empty.txt: empty input", is: ErrUnknownFormat},
		{name: "blank lines", in: "\n\n  \n", err: "empty input", is: ErrUnknownFormat},
		{name: "binary", in: "\x7fELF\x02\x01\x01\x00\x00\x00", err: "binary data (starts 7f 45 4c 46", is: ErrUnknownFormat},
		{name: "folded stacks", in: "bash;entry_SYSCALL_64;do_syscall_64;ksys_read 12\nbash;entry_SYSCALL_64;do_syscall_64;ksys_write 3\n", other: true},
		{name: "prose", in: "I traced it and nothing { happened;\n", is: ErrUnknownFormat},
		{name: "header only", in: "# tracer: function_graph\n#\n# CPU  DURATION                  FUNCTION CALLS\n", is: ErrUnknownFormat},
		{
			name: "trace-cmd truncated line", in: tcEntry + "      reqlab-srv-158   [001]    23.090659: funcgraph_entry:        3.507 us   |        __rcu_read_lo\n" + tcExit,
			format: FormatTraceCmd, calls: 1,
			warnings: []string{`trace-cmd truncated line.txt:2: expected "func() {", "func();" or "}", found "__rcu_read_lo"`},
		},
		{
			name: "trace-cmd bad duration", in: tcEntry + "      reqlab-srv-158   [001]    23.090659: funcgraph_entry:        3.5x us   |        __rcu_read_lock();\n" + tcExit,
			format: FormatTraceCmd, calls: 1,
			warnings: []string{`trace-cmd bad duration.txt:2: expected a duration ("2.441 us"), found "3.5x us"`},
		},
		{
			name: "trace-cmd cut mid-line", in: tcEntry + tcLeaf + "      reqlab-srv-158   [001]    23.09",
			format: FormatTraceCmd, calls: 2,
			warnings: []string{"1 calls without an exit"},
			flags:    map[string]Flags{"inet_recvmsg": FlagUnclosed},
		},
		{
			name: "trace-cmd starts mid-call", in: tcLeaf + tcExit + tcEntry + tcExit,
			format: FormatTraceCmd, calls: 3,
			warnings: []string{"1 exits without an entry"},
			flags:    map[string]Flags{"<unknown>": FlagOrphan},
		},
		{
			name: "trace-cmd ends mid-call", in: tcEntry + tcLeaf,
			format: FormatTraceCmd, calls: 2,
			warnings: []string{"1 calls without an exit"},
			flags:    map[string]Flags{"inet_recvmsg": FlagUnclosed},
		},
		{
			name: "trace-cmd lost events", in: tcEntry + "CPU:1 [12 EVENTS DROPPED]\n" + tcLeaf + "CPU:0 [EVENTS DROPPED]\n" + tcExit + "[LOST 3 EVENTS]\n",
			format: FormatTraceCmd, calls: 2,
			warnings: []string{"trace-cmd lost events.txt:2: 12 events lost on CPU 1", "trace-cmd lost events.txt:4: events lost on CPU 0", ":6: 3 events lost"},
			flags:    map[string]Flags{"inet_recvmsg": FlagLost},
		},
		{
			name: "ftrace truncated line", in: ftEntry + " 0)   3.296 us    |    __rcu_read_lock(\n" + ftExit,
			format: FormatFtrace, calls: 1,
			warnings: []string{`ftrace truncated line.txt:2: expected ")" closing the call, found "__rcu_read_lock("`},
		},
		{
			name: "ftrace bad CPU column", in: ftEntry + "360.774522 |   x)   0.541 us    |   }\n" + ftExit,
			format: FormatFtrace, calls: 1,
			warnings: []string{`ftrace bad CPU column.txt:2: expected "func() {", "func();" or "}", found "x)   0.541 us`},
		},
		{
			name: "ftrace starts mid-call", in: ftLeaf + ftExit + ftEntry + ftExit,
			format: FormatFtrace, calls: 3,
			warnings: []string{"1 exits without an entry"},
			flags:    map[string]Flags{"<unknown>": FlagOrphan},
		},
		{
			name: "ftrace ends mid-call", in: ftEntry + ftLeaf,
			format: FormatFtrace, calls: 2,
			warnings: []string{"1 calls without an exit"},
			flags:    map[string]Flags{"inet_recvmsg": FlagUnclosed},
		},
		{
			name: "ftrace lost events", in: ftEntry + "CPU:0 [LOST 11745 EVENTS]\n" + ftLeaf + ftExit,
			format: FormatFtrace, calls: 2,
			warnings: []string{"ftrace lost events.txt:2: 11745 events lost on CPU 0"},
			flags:    map[string]Flags{"inet_recvmsg": FlagLost},
		},
		{
			name: "ftrace prose around", in: "Tracing \"inet_recvmsg\"... Ctrl-C to end.\n# ./funcgraph inet_recvmsg\n[...]\n" + ftEntry + "\n" + ftLeaf + "^C\nEnding tracing...\n" + ftExit,
			format: FormatFtrace, calls: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := tt.name + ".txt"
			if tt.name == "empty" {
				name = "empty.txt"
			}
			tr, err := Parse(name, strings.NewReader(tt.in))
			if tt.other {
				if err == nil && (tr.Format == FormatTraceCmd || tr.Format == FormatFtrace) {
					t.Errorf("read as %s", tr.Format)
				}
				if scoreTraceCmd([]byte(tt.in)) != 0 || scoreFtrace([]byte(tt.in)) != 0 {
					t.Errorf("function_graph score not 0")
				}
				return
			}
			if tt.err != "" || tt.is != nil {
				if err == nil {
					t.Fatalf("no error; read %d calls as %s", tr.Calls(), tr.Format)
				}
				if !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %q does not contain %q", err, tt.err)
				}
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Errorf("error %q does not wrap %v", err, tt.is)
				}
				var pe *Error
				if !errors.As(err, &pe) || pe.File != name {
					t.Errorf("error %q is not a parse.Error naming %s", err, name)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkLinks(t, tr)
			if tr.Format != tt.format {
				t.Errorf("format %s, want %s", tr.Format, tt.format)
			}
			if tr.Calls() != tt.calls {
				t.Errorf("%d calls, want %d", tr.Calls(), tt.calls)
			}
			for _, want := range tt.warnings {
				found := false
				for i := range tr.Warnings {
					if strings.Contains(tr.Warnings[i].Error(), want) {
						found = true
					}
				}
				if !found {
					t.Errorf("no warning contains %q; warnings: %v", want, tr.Warnings)
				}
			}
			if len(tt.warnings) == 0 && len(tr.Warnings) > 0 {
				t.Errorf("unexpected warnings: %v", tr.Warnings)
			}
			for name, fl := range tt.flags {
				found := false
				for i := range tr.Nodes {
					if tr.NameOf(NodeID(i)) == name && tr.Nodes[i].Flags.Has(fl) {
						found = true
					}
				}
				if !found {
					t.Errorf("no %s flagged %v", name, fl)
				}
			}
		})
	}
}

// TestFuncgraphLongLine checks that a line longer than the read buffer is
// read (and one past maxLine cut with a warning), not an error.
func TestFuncgraphLongLine(t *testing.T) {
	long := " 0)               |  " + strings.Repeat("a", 3<<20) + "() {\n"
	in := " 0)   3.296 us    |  __rcu_read_lock();\n" + long + " 0)   2.000 us    |  fput();\n"
	tr, err := Parse("long.txt", bytes.NewReader([]byte(in)))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Calls() != 2 {
		t.Errorf("%d calls, want 2", tr.Calls())
	}
	if len(tr.Warnings) == 0 || !strings.Contains(tr.Warnings[0].Error(), "long.txt:2: line longer than") {
		t.Errorf("warnings %v", tr.Warnings)
	}
}
