package parse

import "bufio"

func scoreTraceCmd(head []byte) int                   { return 0 }
func parseTraceCmd(b *Builder, r *bufio.Reader) error { return nil }
func scoreFtrace(head []byte) int                     { return 0 }
func parseFtrace(b *Builder, r *bufio.Reader) error   { return nil }
