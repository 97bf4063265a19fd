package parse

import (
	"errors"
	"strings"
	"testing"
)

// Outputs of other tracers are trouble, and the error says what they are
// and how to record something tracediff reads. Lines are copied from the
// ftrace documentation, perf-tools and trace-cmd examples.
func TestOtherTracers(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"function tracer with header", "# tracer: function\n#\n#           TASK-PID   CPU#      TIMESTAMP  FUNCTION\n            bash-2044  [002] .... 10594.481032: _raw_spin_lock_irqsave <-get_page_from_freelist\n",
			`ftrace output of the "function" tracer, which records no call trees`},
		{"function tracer from trace_pipe", "CPU:2 [LOST 11745 EVENTS]\n            bash-2044  [002] .... 10594.481032: _raw_spin_lock_irqsave <-get_page_from_freelist\n            bash-2044  [002] d... 10594.481032: add_preempt_count <-_raw_spin_lock_irqsave\n",
			"output of the function tracer (func <-caller)"},
		{"irqsoff tracer", "# tracer: irqsoff\n#\n# irqsoff latency trace v1.1.5 on 3.8.0-test+\n",
			`ftrace output of the "irqsoff" tracer`},
		{"trace-cmd report of events only", "          <idle>-0     [003] 58549.289091: sched_switch:         kworker/0:1:0 [120] R ==> trace-cmd:2603 [120]\n          <idle>-0     [003] 58549.289092: kernel_stack:         <stack trace>\n=> schedule (ffffffff814b260e)\n",
			"trace events (sched_switch) but no function_graph entries or exits"},
		{"trace-cmd profile", "# trace-cmd profile -F sleep 1\n [...]\ntask: sleep-1121\n  Event: sched_switch:R (2) Total: 234559 Avg: 117279 Max: 129886 Min:104673\n",
			"trace-cmd profile output is not read"},
		{"prose", "hello, this is not a trace\n", `no function_graph, stack or trace.dat content found (first line "hello, this is not a trace")`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.txt", strings.NewReader(tc.in))
			if !errors.Is(err, ErrUnknownFormat) {
				t.Fatalf("err = %v, want ErrUnknownFormat", err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "x.txt: ") {
				t.Errorf("err = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}
