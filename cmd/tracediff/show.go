package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/tracediff/tracediff/parse"
)

func newShowCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "show FILE",
		Short: "Print one capture's call trees, task by task, as tracediff read them",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parse.ParseFile(args[0])
			if err != nil {
				return err
			}
			for _, w := range t.Warnings {
				fmt.Fprintf(os.Stderr, "warning: %s\n", parse.Safe(w.Error()))
			}
			return parse.Dump(stdout, t)
		},
	}
}

func newFoldCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "fold FILE",
		Short: "Write any capture as folded stacks (root;child;leaf count) for FlameGraph, inferno or speedscope",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parse.ParseFile(args[0])
			if err != nil {
				return err
			}
			return parse.WriteFolded(stdout, t)
		},
	}
}
