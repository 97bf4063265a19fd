package main

import (
	"errors"

	"github.com/tracediff/tracediff/diff"
)

func runTUI(goodPath, badPath string, opts diff.Options) error {
	return errors.New("the interactive UI is not available yet")
}
