package parse

import (
	"bytes"
	"strconv"
	"strings"
)

// fmtField is one field of an event (or of the page header) as its format
// description gives it: "field:unsigned long func;	offset:8;	size:8;	signed:0;".
type fmtField struct {
	name    string
	typ     string
	offset  int
	size    int
	signed  bool
	array   bool // "name[N]" or "name[]"
	dynamic bool // __data_loc: a 32-bit (length<<16 | offset) locates the data
	relLoc  bool // __rel_loc: the same, relative to the end of the field
}

// isString reports whether the field holds characters.
func (fl *fmtField) isString() bool {
	return fl.array && strings.Contains(fl.typ, "char")
}

// eventKind says how a record is turned into the model.
type eventKind uint8

const (
	evOther eventKind = iota
	evFuncEntry
	evFuncExit
	evSchedSwitch
	evPrint
)

// eventFormat is one event's format description.
type eventFormat struct {
	system, name string
	id           int
	fields       []fmtField
	kind         eventKind
	// Field indexes used on the hot path, -1 when absent.
	pid, fn, calltime, rettime, retval int
}

func (e *eventFormat) field(name string) int {
	for i := range e.fields {
		if e.fields[i].name == name {
			return i
		}
	}
	return -1
}

// eventFormats indexes the formats by event id (common_type).
type eventFormats struct {
	byID       []*eventFormat
	typeOff    int
	typeSize   int
	haveCommon bool
}

func (ef *eventFormats) get(id int) *eventFormat {
	if id < 0 || id >= len(ef.byID) {
		return nil
	}
	return ef.byID[id]
}

// parseFormat parses one format description ("name: ...\nID: ...\nformat:\n
// field:...") of the given system. It returns nil when the text is not a
// usable description (trace-cmd counts those as parsing failures and goes
// on).
func parseFormat(system string, text []byte) *eventFormat {
	ev := &eventFormat{system: system, id: -1}
	for _, line := range bytes.Split(text, []byte("\n")) {
		l := strings.TrimSpace(string(line))
		switch {
		case strings.HasPrefix(l, "name:"):
			ev.name = strings.TrimSpace(l[5:])
		case strings.HasPrefix(l, "ID:"):
			id, err := strconv.Atoi(strings.TrimSpace(l[3:]))
			if err == nil && id >= 0 && id < 1<<16 {
				ev.id = id
			}
		case strings.HasPrefix(l, "field:"):
			if fl, ok := parseFieldLine(l); ok {
				ev.fields = append(ev.fields, fl)
			}
		}
	}
	if ev.name == "" || ev.id < 0 {
		return nil
	}
	ev.pid = ev.field("common_pid")
	ev.fn = ev.field("func")
	ev.calltime = ev.field("calltime")
	ev.rettime = ev.field("rettime")
	ev.retval = ev.field("retval")
	switch {
	case system == "ftrace" && ev.name == "funcgraph_entry" && ev.fn >= 0:
		ev.kind = evFuncEntry
	case system == "ftrace" && ev.name == "funcgraph_exit" && ev.fn >= 0 && ev.calltime >= 0 && ev.rettime >= 0:
		ev.kind = evFuncExit
	case system == "sched" && ev.name == "sched_switch":
		ev.kind = evSchedSwitch
	case system == "ftrace" && ev.name == "print":
		ev.kind = evPrint
	}
	return ev
}

// parseFieldLine parses "field:TYPE NAME;\toffset:N;\tsize:N;\tsigned:N;".
func parseFieldLine(l string) (fmtField, bool) {
	var fl fmtField
	parts := strings.Split(l, ";")
	if len(parts) < 3 {
		return fl, false
	}
	decl := strings.TrimSpace(strings.TrimPrefix(parts[0], "field:"))
	haveOff, haveSize := false, false
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		k, v, ok := strings.Cut(p, ":")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 || n > 1<<20 {
			continue
		}
		switch k {
		case "offset":
			fl.offset, haveOff = n, true
		case "size":
			fl.size, haveSize = n, true
		case "signed":
			fl.signed = n != 0
		}
	}
	if !haveOff || !haveSize {
		return fl, false
	}
	if i := strings.IndexByte(decl, '['); i >= 0 {
		fl.array = true
		decl = strings.TrimSpace(decl[:i])
	}
	if strings.HasPrefix(decl, "__data_loc ") {
		fl.dynamic = true
		decl = strings.TrimPrefix(decl, "__data_loc ")
	} else if strings.HasPrefix(decl, "__rel_loc ") {
		fl.dynamic, fl.relLoc = true, true
		decl = strings.TrimPrefix(decl, "__rel_loc ")
	}
	if fl.dynamic {
		// "__data_loc char[] name": the brackets follow the type.
		decl = strings.Replace(decl, "[]", "", 1)
		fl.array = true
	}
	i := strings.LastIndexAny(decl, " \t*")
	if i < 0 || i == len(decl)-1 {
		return fl, false
	}
	fl.name = decl[i+1:]
	fl.typ = strings.TrimSpace(decl[:i+1])
	return fl, true
}

// pageHeader is the layout of a ring-buffer page header (header_page).
type pageHeader struct {
	tsOff, tsSize         int
	commitOff, commitSize int
	dataOff               int
}

// readHeaderInfo reads the header_page and header_event descriptions.
func (d *datReader) readHeaderInfo(c *cursor) error {
	tag, err := c.bytes(12, "the \"header_page\" tag")
	if err != nil {
		return err
	}
	if string(tag) != "header_page\x00" {
		return c.errf(false, "expected \"header_page\", found %q", tag)
	}
	n, err := c.u64("the header_page size")
	if err != nil {
		return err
	}
	if n > maxDatFormat {
		return c.errf(false, "expected a header_page description under %d bytes, found %d", maxDatFormat, n)
	}
	text, err := c.bytes(int(n), "the header_page description")
	if err != nil {
		return err
	}
	// Defaults of the kernel's layout, for a description we cannot read.
	h := pageHeader{tsOff: 0, tsSize: 8, commitOff: 8, commitSize: d.f.longSize, dataOff: 8 + d.f.longSize}
	for _, line := range bytes.Split(text, []byte("\n")) {
		fl, ok := parseFieldLine(strings.TrimSpace(string(line)))
		if !ok {
			continue
		}
		switch fl.name {
		case "timestamp":
			h.tsOff, h.tsSize = fl.offset, fl.size
		case "commit":
			h.commitOff, h.commitSize = fl.offset, fl.size
		case "data":
			h.dataOff = fl.offset
		}
	}
	if h.tsSize != 8 || h.tsOff+8 > d.f.pageSize || (h.commitSize != 4 && h.commitSize != 8) ||
		h.commitOff+h.commitSize > d.f.pageSize || h.dataOff >= d.f.pageSize || h.dataOff < 12 {
		return c.errf(false, "expected a page header with an 8-byte timestamp, a 4- or 8-byte commit and data inside the %d-byte page", d.f.pageSize)
	}
	d.hdr = h
	tag, err = c.bytes(13, "the \"header_event\" tag")
	if err != nil {
		return err
	}
	if string(tag) != "header_event\x00" {
		return c.errf(false, "expected \"header_event\", found %q", tag)
	}
	n, err = c.u64("the header_event size")
	if err != nil {
		return err
	}
	if n > maxDatFormat {
		return c.errf(false, "expected a header_event description under %d bytes, found %d", maxDatFormat, n)
	}
	_, err = c.bytes(int(n), "the header_event description")
	return err
}

// readFormatList reads count format descriptions, each with an 8-byte size.
func (d *datReader) readFormatList(c *cursor, system string, count uint32) error {
	if int64(count) > c.left()/8 {
		return c.errf(true, "expected %d event formats, but only %d bytes are left", count, c.left())
	}
	for i := uint32(0); i < count; i++ {
		n, err := c.u64("an event format size")
		if err != nil {
			return err
		}
		if n > maxDatFormat {
			return c.errf(false, "expected an event format under %d bytes, found %d", maxDatFormat, n)
		}
		text, err := c.bytes(int(n), "an event format")
		if err != nil {
			return err
		}
		if ev := parseFormat(system, text); ev != nil {
			d.addFormat(ev)
		}
	}
	return nil
}

func (d *datReader) addFormat(ev *eventFormat) {
	ef := &d.formats
	for len(ef.byID) <= ev.id {
		ef.byID = append(ef.byID, nil)
	}
	ef.byID[ev.id] = ev
	if !ef.haveCommon {
		if i := ev.field("common_type"); i >= 0 {
			fl := ev.fields[i]
			if fl.size == 1 || fl.size == 2 || fl.size == 4 {
				ef.typeOff, ef.typeSize, ef.haveCommon = fl.offset, fl.size, true
			}
		}
	}
}

// readFtraceFormats reads the ftrace event formats (funcgraph_entry, ...).
func (d *datReader) readFtraceFormats(c *cursor) error {
	count, err := c.u32("the ftrace format count")
	if err != nil {
		return err
	}
	return d.readFormatList(c, "ftrace", count)
}

// readEventFormats reads the event formats of every event system.
func (d *datReader) readEventFormats(c *cursor) error {
	systems, err := c.u32("the event system count")
	if err != nil {
		return err
	}
	if systems > maxDatEventsLen || int64(systems) > c.left()/5 {
		return c.errf(true, "expected %d event systems, but only %d bytes are left", systems, c.left())
	}
	for i := uint32(0); i < systems; i++ {
		name, err := c.cstring(256, "an event system name")
		if err != nil {
			return err
		}
		count, err := c.u32("the event count of system " + name)
		if err != nil {
			return err
		}
		if err := d.readFormatList(c, name, count); err != nil {
			return err
		}
	}
	return nil
}
