package diff_test

import (
	"fmt"

	"github.com/tracediff/tracediff/diff"
	"github.com/tracediff/tracediff/parse"
)

// Compare a good and a bad capture of the same request and print the
// strongest divergence.
func ExampleCompare() {
	good, err := parse.ParseFile("../examples/sockmap/good.report")
	if err != nil {
		panic(err)
	}
	bad, err := parse.ParseFile("../examples/sockmap/bad.report")
	if err != nil {
		panic(err)
	}
	res, err := diff.Compare(good, bad, diff.Options{})
	if err != nil {
		panic(err)
	}
	d := res.Divergences[0]
	fmt.Println(d.Kind)
	fmt.Println(d.Summary)
	// Output:
	// substitution
	// inet_recvmsg: good -> tcp_bpf_recvmsg, bad -> tcp_recvmsg
}

// Walk the divergences and the callees each side makes there.
func ExampleResult_divergences() {
	good, _ := parse.ParseFile("../examples/sockmap/good.report")
	bad, _ := parse.ParseFile("../examples/sockmap/bad.report")
	res, _ := diff.Compare(good, bad, diff.Options{Focus: "inet_recvmsg"})
	for _, d := range res.Divergences {
		for _, c := range d.Good {
			fmt.Printf("%s: good calls %s at line %d\n", d.ID, c.Name, c.Line)
		}
		for _, c := range d.Bad {
			fmt.Printf("%s: bad calls %s at line %d\n", d.ID, c.Name, c.Line)
		}
	}
	// Output:
	// D1: good calls tcp_bpf_recvmsg at line 148
	// D1: bad calls tcp_recvmsg at line 19
}
