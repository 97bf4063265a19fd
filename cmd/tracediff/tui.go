package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tracediff/tracediff/diff"
	"github.com/tracediff/tracediff/tui"
)

// runTUI opens the interactive UI on the two captures (tracediff -i).
func runTUI(goodPath, badPath string, opts diff.Options) error {
	if goodPath == "-" || badPath == "-" {
		return fmt.Errorf("the interactive UI reads the keyboard from the terminal: give both captures as files")
	}
	return tui.Run(goodPath, badPath, opts)
}

// newTUICmd is `tracediff tui GOOD BAD`, the same as `tracediff -i`.
func newTUICmd(stdout io.Writer) *cobra.Command {
	var f diffFlags
	cmd := &cobra.Command{
		Use:   "tui GOOD BAD",
		Short: "Open the two captures' aligned call trees in an interactive terminal UI (same as -i)",
		Long: `tui shows the good capture on the left and the bad one on the right, matched
calls on the same line, identical subtrees folded. n/N walk the divergences
strongest first, / searches names, f focuses on a subtree, ? lists all keys.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := f.options()
			if err != nil {
				return err
			}
			return runTUI(args[0], args[1], opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.focus, "focus", "", "compare only the subtrees rooted at calls of this function")
	fl.StringArrayVar(&f.hide, "hide", nil, "drop calls matching this glob, with their subtrees (repeatable)")
	fl.IntVar(&f.depth, "depth", 0, "compare calls down to this depth (0: all)")
	fl.StringVar(&f.goodTask, "good-task", "", "select tasks of the good capture: pid, comm glob or comm-pid")
	fl.StringVar(&f.badTask, "bad-task", "", "select tasks of the bad capture: pid, comm glob or comm-pid")
	fl.BoolVar(&f.raw, "raw", false, "match names as printed, without removing .isra.0/.constprop.0 suffixes and +off/len")
	fl.BoolVar(&f.irq, "irq", false, "include interrupt and softirq subtrees nested in tasks (i toggles it in the UI)")
	fl.StringVar(&f.timingMin, "timing-min", "100us", "smallest duration difference reported as a timing divergence")
	return cmd
}
