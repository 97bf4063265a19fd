package parse_test

import (
	"fmt"

	"github.com/tracediff/tracediff/parse"
)

// Parse a trace-cmd report and look at what was read.
func ExampleParseFile() {
	t, err := parse.ParseFile("../examples/sockmap/bad.report")
	if err != nil {
		panic(err)
	}
	fmt.Println(t.Format, len(t.Tasks), t.Tasks[0].Label())
	root := t.Tasks[0].First
	fmt.Println(t.NameOf(root), parse.FormatDuration(t.Nodes[root].Duration))
	// Output:
	// trace-cmd-report 1 reqlab-srv-178
	// __sys_recvfrom 584.346us
}
