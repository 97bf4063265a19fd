package parse

import (
	"strings"
	"testing"
)

// A line far longer than the read buffer (a paste without newlines) is cut
// at maxLine rather than held whole, and the stacks after it are read.
func TestStackLongLine(t *testing.T) {
	in := "Attaching 2 probes...\n" + strings.Repeat("x", 3*maxLine) + "\n" +
		"        tcp_recvmsg+1\n        inet_recvmsg+82\n        __sys_recvfrom+203\n\n"
	tr, err := Parse("long.txt", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Samples) != 1 || tr.NameOf(tr.Samples[0].Leaf) != "tcp_recvmsg+1" {
		t.Fatalf("samples %+v", tr.Samples)
	}
	if tr.Samples[0].Line != 3 {
		t.Errorf("sample at line %d, want 3", tr.Samples[0].Line)
	}
}
