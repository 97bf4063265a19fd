package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tracediff/tracediff/diff"
	"github.com/tracediff/tracediff/parse"
)

// newGroupsCmd returns the groups command: what separates good requests
// from bad ones, or, without labels, how the requests of one capture fall
// into groups.
func newGroupsCmd(stdout io.Writer) *cobra.Command {
	var f requestFlags
	var badList string
	var top, splits int
	cmd := &cobra.Command{
		Use:   "groups FILE [BAD-FILE] --request FUNC [--bad LIST]",
		Short: "Show what separates good requests from bad ones, or how one capture's requests group",
		Long: `groups cuts captures into requests (each topmost call of --request, or the
calls between --request-marker events; in a stack capture, each stack, one
per event it stands for) and compares them as samples.

With two files, the requests of the first are good and those of the second
bad; with one file and --bad 2,4,5, the listed requests (numbered from 1 in
time order) are bad and the others good. Call edges (parent -> child, by
normalised names) are ranked by how consistently they separate the groups
("inet_recvmsg -> tcp_recvmsg: in 3 of 3 bad, 0 of 3 good"), not by time.

With one file and no --bad, the requests are grouped by how they ran: each
call edge that some requests make and others do not cuts them in two, and
the cuts several edges agree on are shown, callee choices first ("3 requests
(#1, #3, #6) call inet_recvmsg -> tcp_bpf_recvmsg").

Noise left out by default: interrupt and softirq subtrees nested in a request
(--irq keeps them); events that are not calls.`,
		Args:          cobra.RangeArgs(1, 2),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, reqs, root, err := f.split(args[0])
			if err != nil {
				return err
			}
			samples := make([]diff.Sample, len(reqs))
			for i := range reqs {
				samples[i] = diff.Sample{Trace: t, Request: reqs[i]}
			}
			opts := diff.GroupOptions{IRQ: f.irq}
			switch {
			case len(args) == 2:
				if badList != "" {
					return fmt.Errorf("--bad selects bad requests of one capture; with two captures the second is bad")
				}
				bt, breqs, _, err := f.split(args[1])
				if err != nil {
					return err
				}
				bad := make([]diff.Sample, len(breqs))
				for i := range breqs {
					bad[i] = diff.Sample{Trace: bt, Request: breqs[i]}
				}
				return diff.CompareGroups(samples, bad, opts).WriteText(stdout, root, top)
			case badList != "":
				isBad, err := parseIndexList(badList, len(samples))
				if err != nil {
					return fmt.Errorf("--bad: %w", err)
				}
				var good, bad []diff.Sample
				for i := range samples {
					if isBad[i] {
						bad = append(bad, samples[i])
					} else {
						good = append(good, samples[i])
					}
				}
				if len(good) == 0 {
					return fmt.Errorf("--bad: every request is listed, none is left as good")
				}
				return diff.CompareGroups(good, bad, opts).WriteText(stdout, root, top)
			}
			return diff.WriteSplits(stdout, samples, diff.ClusterRequests(samples, opts, splits), root, top)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&badList, "bad", "", "the bad requests of a single capture, by number from 1: 2,4,5 or 2-5")
	cmd.Flags().IntVar(&top, "top", 10, "separating edges listed (0: all)")
	cmd.Flags().IntVar(&splits, "splits", 3, "groupings listed when no request is labelled bad (0: all)")
	return cmd
}

// parseIndexList reads "2,4,5" or "2-5,9" (1-based request numbers) into
// a set over n requests.
func parseIndexList(s string, n int) ([]bool, error) {
	set := make([]bool, n)
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("expected request numbers such as 2,4,5 or 2-5, found %q", parse.Safe(part))
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("expected a range such as 2-5, found %q", parse.Safe(part))
			}
		}
		if a < 1 || b > n {
			return nil, fmt.Errorf("request %q out of range: the capture holds requests 1 to %d", parse.Safe(part), n)
		}
		for i := a; i <= b; i++ {
			set[i-1] = true
		}
	}
	return set, nil
}
