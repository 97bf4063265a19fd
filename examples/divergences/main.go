// This program shows how to use tracediff as a library: it parses a good and
// a bad capture, compares them, and walks the ranked divergences, printing
// each one's kind, the path of calls that leads to it and what each side
// calls there.
//
//	go run ./examples/divergences examples/sockmap/good.report examples/sockmap/bad.report
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/tracediff/tracediff/diff"
	"github.com/tracediff/tracediff/parse"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: divergences GOOD BAD")
		os.Exit(2)
	}
	good, err := parse.ParseFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	bad, err := parse.ParseFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	res, err := diff.Compare(good, bad, diff.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for _, d := range res.Divergences {
		fmt.Printf("%s %s at %s\n", d.ID, d.Kind, parse.Safe(strings.Join(d.Path, " > ")))
		for _, c := range d.Good {
			fmt.Printf("  good calls %s (line %d)\n", parse.Safe(c.Name), c.Line)
		}
		for _, c := range d.Bad {
			fmt.Printf("  bad calls  %s (line %d)\n", parse.Safe(c.Name), c.Line)
		}
	}
}
