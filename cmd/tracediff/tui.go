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
	f.registerSelection(cmd)
	return cmd
}
