package parse

import "bufio"

func scoreBpftrace(head []byte) int                       { return 0 }
func parseBpftrace(b *Builder, r *bufio.Reader) error     { return nil }
func scoreBpftraceJSON(head []byte) int                   { return 0 }
func parseBpftraceJSON(b *Builder, r *bufio.Reader) error { return nil }
func scorePerfScript(head []byte) int                     { return 0 }
func parsePerfScript(b *Builder, r *bufio.Reader) error   { return nil }
func scoreFolded(head []byte) int                         { return 0 }
func parseFolded(b *Builder, r *bufio.Reader) error       { return nil }
