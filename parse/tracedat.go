package parse

import "bufio"

func parseTraceDat(b *Builder, r *bufio.Reader) error {
	return &Error{File: b.t.Path, Offset: 0, Msg: "trace.dat input is not supported yet"}
}
