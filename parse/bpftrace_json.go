package parse

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// bpftrace -f json output: one JSON record a line (NDJSON), each
// {"type": T, "data": D}. The records read:
//
//	{"type": "attached_probes", "data": {"probes": 2}}
//	{"type": "printf", "data": "...text..."}        stacks printed with printf
//	{"type": "map", "data": {"@name": {"key": 3}}}   values per key
//	{"type": "stats", "data": {"@": {"key": 2}}}      avg() maps
//	{"type": "hist", "data": {"@": {"key": [{"min": 8, "max": 15, "count": 1}]}}}
//	{"type": "lost_events", "data": {"events": 67190}}
//
// A stack key is the stack's text, frames separated by newlines; other keys
// of the same entry are joined to it by commas ("bpftrace,2"). printf text
// goes through the text reader, so stacks printed with printf read as in
// text output. A record printed over several lines (older versions
// pretty-print some maps) is gathered until it is complete.
// Other record types (time, join, cat, value, syscall, helper_error) hold
// no stack and are skipped.

// btJSONRecord is one record.
type btJSONRecord struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// maxJSONRecord bounds a record gathered over several lines.
const maxJSONRecord = 64 << 20

func parseBpftraceJSON(b *Builder, r *bufio.Reader) error {
	lr := &lineReader{r: r}
	text := newBtReader(b)
	var rec []byte
	start := 0
	var pending []byte // printf text not yet ended by a newline
	for {
		s, ok := lr.next()
		if !ok {
			break
		}
		if len(rec) == 0 {
			t := stTrim(s)
			if len(t) == 0 {
				continue
			}
			if t[0] != '{' {
				return stErrorf(b, lr.n, "expected a JSON record {\"type\": ..., \"data\": ...}, found %s", stQuote(t))
			}
			start = lr.n
		}
		rec = append(rec, s...)
		rec = append(rec, '\n')
		if !json.Valid(rec) {
			if len(rec) > maxJSONRecord {
				return stErrorf(b, start, "expected a complete JSON record, found one over %d MiB", maxJSONRecord>>20)
			}
			continue
		}
		var x btJSONRecord
		if err := json.Unmarshal(rec, &x); err != nil {
			return stErrorf(b, start, "expected a JSON object record, found %s", stQuote(stTrim(rec)))
		}
		rec = rec[:0]
		var err error
		pending, err = btJSONRecordDo(b, text, &x, start, pending)
		if err != nil {
			return err
		}
	}
	if err := lr.readError(b); err != nil {
		return err
	}
	if len(rec) > 0 {
		return &Error{File: b.t.Path, Line: lr.n, Offset: -1, Msg: "expected the end of the JSON record started at line " + strconv.Itoa(start) + ", found end of input", Err: ErrTruncated}
	}
	if len(pending) > 0 {
		if err := text.line(pending, start); err != nil {
			return err
		}
	}
	text.read = true // records were read; stray printf text is no error
	if err := text.finish(lr.n); err != nil {
		return err
	}
	b.Finish(lr.n)
	return nil
}

// btJSONRecordDo handles one record read at line ln.
func btJSONRecordDo(b *Builder, text *btReader, x *btJSONRecord, ln int, pending []byte) ([]byte, error) {
	switch x.Type {
	case "attached_probes":
		var d struct {
			Probes int64 `json:"probes"`
		}
		if json.Unmarshal(x.Data, &d) == nil {
			b.Header("attached probes: " + strconv.FormatInt(d.Probes, 10))
		}
	case "lost_events":
		var d struct {
			Events int64 `json:"events"`
		}
		if err := json.Unmarshal(x.Data, &d); err != nil || d.Events < 0 {
			return pending, stErrorf(b, ln, "expected {\"events\": N} in a lost_events record, found %s", stQuote(x.Data))
		}
		b.LostEvents(-1, d.Events, int32(ln))
	case "printf":
		var s string
		if err := json.Unmarshal(x.Data, &s); err != nil {
			return pending, stErrorf(b, ln, "expected a string in a printf record, found %s", stQuote(x.Data))
		}
		pending = append(pending, s...)
		for {
			i := bytes.IndexByte(pending, '\n')
			if i < 0 {
				break
			}
			if err := text.line(pending[:i], ln); err != nil {
				return pending, err
			}
			pending = append(pending[:0], pending[i+1:]...)
		}
	case "map", "stats", "hist":
		if err := btJSONMaps(b, text, x.Type, x.Data, ln); err != nil {
			return pending, err
		}
	}
	return pending, nil
}

// btJSONMaps reads the maps of a map, stats or hist record, in the order
// printed.
func btJSONMaps(b *Builder, text *btReader, typ string, data json.RawMessage, ln int) error {
	maps, ok := orderedObject(data)
	if !ok {
		return nil // a scalar or tuple: no stack
	}
	for _, m := range maps {
		name := strings.TrimPrefix(m.key, "@")
		entries, ok := orderedObject(m.val)
		if !ok {
			continue // "@x": 5, a map without keys
		}
		for _, e := range entries {
			frames, keys, ok := btJSONStackKey(e.key)
			if !ok {
				continue
			}
			count, agg, ok := btJSONValue(typ, e.val)
			if !ok {
				b.Warnf(ln, "value of map @%s is %s, not a count: stack skipped", name, stQuote(e.val))
				continue
			}
			if agg == "" {
				agg = text.aggOf(name)
			}
			var parts []string
			if name != "" {
				parts = append(parts, "map=@"+name)
			}
			parts = append(parts, keys...)
			b.Sample(text.pseudoTask(), frames, count, agg, strings.Join(parts, " "), int32(ln))
		}
	}
	return nil
}

// btJSONStackKey splits a map key holding a stack into frames (root first)
// and the other keys. ok is false when the key holds no stack.
func btJSONStackKey(k string) (frames [][]byte, keys []string, ok bool) {
	first := strings.IndexByte(k, '\n')
	if first < 0 {
		return nil, nil, false
	}
	last := strings.LastIndexByte(k, '\n')
	for _, l := range strings.Split(k[first+1:last+1], "\n") {
		if f, ok := btKeyFrameText([]byte(l)); ok {
			frames = append(frames, f)
		}
	}
	if len(frames) == 0 {
		return nil, nil, false
	}
	stReverse(frames)
	for _, part := range strings.Split(k[:first]+","+k[last+1:], ",") {
		if p := strings.TrimSpace(part); p != "" {
			keys = append(keys, p)
		}
	}
	return frames, keys, true
}

// btJSONValue reads an entry's value: a count, an avg (stats record), a
// stats object or histogram buckets.
func btJSONValue(typ string, v json.RawMessage) (count int64, agg string, ok bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return 0, "", false
	}
	switch v[0] {
	case '[':
		var buckets []struct {
			Count int64 `json:"count"`
		}
		if json.Unmarshal(v, &buckets) != nil {
			return 0, "", false
		}
		for _, bk := range buckets {
			if bk.Count < 0 || count+bk.Count < count {
				return 0, "", false
			}
			count += bk.Count
		}
		return count, "hist", true
	case '{':
		var st struct {
			Count *int64 `json:"count"`
		}
		if json.Unmarshal(v, &st) != nil || st.Count == nil || *st.Count < 0 {
			return 0, "", false
		}
		return *st.Count, "stats", true
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil || n < 0 {
		return 0, "", false
	}
	if typ == "stats" {
		return n, "avg", true
	}
	return n, "", true
}

// kv is one member of a JSON object.
type kv struct {
	key string
	val json.RawMessage
}

// orderedObject returns the members of a JSON object in their order, or
// ok=false when data is not an object.
func orderedObject(data json.RawMessage) (out []kv, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, false
		}
		k, _ := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, kv{k, v})
	}
	return out, true
}

// scoreBpftraceJSON rates head as bpftrace -f json output: records with a
// "type" bpftrace writes.
func scoreBpftraceJSON(head []byte) int {
	score, bad := 0, 0
	stEachLine(head, func(line []byte) {
		t := stTrim(line)
		if len(t) == 0 || bad > 0 && score == 0 {
			return
		}
		if !bytes.HasPrefix(t, []byte("{\"type\":")) {
			if score == 0 && t[0] != '{' && t[0] != '}' && t[0] != '"' {
				bad++
			}
			return
		}
		for _, ty := range []string{"attached_probes", "printf", "map", "lost_events", "stats", "hist", "time", "value", "join"} {
			if bytes.Contains(t, []byte(`"type": "`+ty+`"`)) || bytes.Contains(t, []byte(`"type":"`+ty+`"`)) {
				score += 50
				break
			}
		}
	})
	if score > 5000 {
		score = 5000
	}
	return score
}
