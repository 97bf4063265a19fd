package main

import (
	"fmt"
	"io"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/tracediff/tracediff/diff"
	"github.com/tracediff/tracediff/parse"
)

// requestFlags are the flags that cut a capture into requests, shared by
// outliers and groups.
type requestFlags struct {
	request string
	marker  string
	task    string
	raw     bool
	irq     bool
}

func (f *requestFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.request, "request", "", "the function whose topmost calls are the requests, e.g. __x64_sys_read")
	fl.StringVar(&f.marker, "request-marker", "", "cut requests at events (trace_marker prints) matching this regular expression instead")
	fl.StringVar(&f.task, "task", "", "keep only the requests of tasks matching this pid, comm glob or comm-pid")
	fl.BoolVar(&f.raw, "raw", false, "match names as printed, without removing .isra.0/.constprop.0 suffixes and +off/len")
	fl.BoolVar(&f.irq, "irq", false, "keep interrupt and softirq subtrees nested in requests (noise by default)")
}

// options checks the flags and returns the request options and the root
// name to show.
func (f *requestFlags) options() (diff.RequestOptions, string, error) {
	opts := diff.RequestOptions{Task: f.task, Raw: f.raw, IRQ: f.irq}
	switch {
	case f.request != "" && f.marker != "":
		return opts, "", fmt.Errorf("--request and --request-marker cannot be used together")
	case f.request == "" && f.marker == "":
		return opts, "stacks", nil
	case f.marker != "":
		re, err := regexp.Compile(f.marker)
		if err != nil {
			return opts, "", fmt.Errorf("--request-marker: %w", err)
		}
		opts.Marker = re
		return opts, "marker /" + f.marker + "/", nil
	}
	return opts, f.request, nil
}

// split reads path and cuts it into requests.
func (f *requestFlags) split(path string) (*parse.Trace, []diff.Request, string, error) {
	opts, root, err := f.options()
	if err != nil {
		return nil, nil, "", err
	}
	t, err := parse.ParseFile(path)
	if err != nil {
		return nil, nil, "", err
	}
	if f.request == "" && f.marker == "" && len(t.Samples) == 0 {
		return nil, nil, "", fmt.Errorf("say how to cut %s into requests: --request FUNC or --request-marker REGEX (only stack captures are cut into one request per stack)", parse.Safe(path))
	}
	reqs := diff.SplitRequests(t, f.request, opts)
	if len(reqs) == 0 {
		return nil, nil, "", fmt.Errorf("%s: no request found (no call of %s)", parse.Safe(path), parse.Safe(root))
	}
	return t, reqs, root, nil
}

// newOutliersCmd returns the outliers command: the requests of one capture
// ranked by why they were slow.
func newOutliersCmd(stdout io.Writer) *cobra.Command {
	var f requestFlags
	var top int
	var rare float64
	cmd := &cobra.Command{
		Use:   "outliers FILE --request FUNC",
		Short: "Rank the requests of one capture by why they were slow, and explain the slow ones",
		Long: `outliers cuts one capture into requests (each topmost call of --request, or
the calls between --request-marker events), compares each request with its
peers, and explains the slow ones by the call paths that only they, or very
few of them, make (--rare, 5% of the requests by default).

Requests are ranked by why they were slow, not by how long they took: block
I/O and page-cache misses (submit_bio, io_schedule, filemap_add_folio,
*_readahead) first, then memory reclaim, sleeping (schedule, *_wait*), lock
contention (*_slowpath, __mutex_lock), other rare calls, and requests with
none; duration orders requests within a class.

Noise left out by default: interrupt and softirq subtrees nested in a request
(--irq keeps them), so a timer interrupt that lands in a request does not
outrank a cache miss; events that are not calls (sched_switch, prints).

Requests are numbered from 1 in time order; the line is where each starts.`,
		Args:          cobra.ExactArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if rare <= 0 || rare >= 1 {
				return fmt.Errorf("--rare: expected a share between 0 and 1, found %g", rare)
			}
			t, reqs, root, err := f.split(args[0])
			if err != nil {
				return err
			}
			for _, w := range t.Warnings {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s\n", parse.Safe(w.Error()))
			}
			o := diff.FindOutliers(t, root, reqs, diff.OutlierOptions{Rare: rare, IRQ: f.irq})
			return o.WriteText(stdout, top)
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&top, "top", 10, "requests listed (0: all)")
	cmd.Flags().Float64Var(&rare, "rare", 0.05, "a call path made by at most this share of the requests is rare")
	return cmd
}
