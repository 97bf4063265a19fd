// Command tracediff compares two kernel trace captures, a good run and a bad
// one, and points at where their call trees diverge.
//
//	tracediff good.report bad.report     ranked divergences, then aligned trees
//	tracediff -i good.report bad.report  the same in an interactive terminal UI
//	tracediff show capture               one capture's call trees, as read
//
// It exits like diff(1): 0 when the captures do not diverge, 1 when they do,
// 2 on trouble (unreadable or unrecognised input, bad flags).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Exit statuses, as diff(1).
const (
	exitSame    = 0
	exitDiffer  = 1
	exitTrouble = 2
)

// errDiffer is returned by a command to exit with status 1 and no message.
var errDiffer = errors.New("captures differ")

func main() {
	// The model of a large capture is a few big slices that live until
	// the end: collecting earlier than the default keeps the peak memory
	// near the live size instead of twice it.
	debug.SetGCPercent(40)
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	switch {
	case err == nil:
		return exitSame
	case errors.Is(err, errDiffer):
		return exitDiffer
	}
	fmt.Fprintf(stderr, "tracediff: %v\n", err)
	return exitTrouble
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	var f diffFlags
	root := &cobra.Command{
		Use:   "tracediff [flags] GOOD BAD",
		Short: "Compare a good and a bad kernel trace capture and show where their call trees diverge",
		Long: `tracediff reads two captures of the same work, one that behaved and one that
did not, rebuilds their call trees task by task, aligns good against bad, and
lists the divergences strongest first: a call that calls something else
(substitution), calls made on one side only, repeat counts, timing.

Inputs (detected from their content; gzip, zstd and xz are read as is; - is
standard input): trace-cmd report of the function_graph tracer, raw ftrace
function_graph text (trace, trace_pipe, perf ftrace, perf-tools funcgraph),
trace-cmd's trace.dat, bpftrace stacks and maps (text and -f json), perf
script callchains and folded stacks.

Noise left out by default, each shown again by a flag:
  interrupt and softirq subtrees nested in a task    --irq
  idle tasks (pid 0, <idle>, swapper/N)               --idle
  the tracer's own tasks (trace-cmd, perf, bpftrace)  --tracer
  events that are not calls (sched_switch, prints)    --events

Exit status: 0 no divergence, 1 divergences found, 2 trouble.`,
		Args:          cobra.ExactArgs(2),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(cmd, args[0], args[1], &f, stdout)
		},
	}
	f.register(root)
	root.AddCommand(newShowCmd(stdout))
	root.AddCommand(newFoldCmd(stdout))
	root.AddCommand(newTUICmd(stdout))
	root.AddCommand(newOutliersCmd(stdout))
	root.AddCommand(newGroupsCmd(stdout))
	return root
}
