package tui

import (
	"sort"
	"strings"
)

// setQuery makes q the active search: it marks the names that contain it
// (case-insensitively), lists the matching rows under the root and, when
// jump is set, moves to the first match at or after the cursor.
func (m *Model) setQuery(q string, jump bool) {
	m.query = q
	if q == "" {
		m.clearSearch()
		return
	}
	lq := strings.ToLower(q)
	m.keyMatch = make([]bool, len(m.res.Names))
	for i, n := range m.res.Names {
		m.keyMatch[i] = strings.Contains(strings.ToLower(n), lq)
	}
	m.tree.match = m.rowMatches
	m.refreshMatches()
	if jump && len(m.matches) > 0 {
		m.ensureOrder()
		cur := m.pos[m.tree.Row()]
		i := sort.Search(len(m.matches), func(i int) bool { return m.pos[m.matches[i]] >= cur })
		m.showMatch(i % len(m.matches))
	}
}

// rowMatches reports whether row r's name matches the active search.
func (m *Model) rowMatches(r int32) bool {
	k := m.res.Rows[r].Key
	return k >= 0 && int(k) < len(m.keyMatch) && m.keyMatch[k]
}

// clearSearch ends the search; n and N go back to divergences.
func (m *Model) clearSearch() {
	m.query, m.matches, m.keyMatch = "", nil, nil
	m.input.SetValue("")
	if m.tree != nil {
		m.tree.match = nil
	}
}

// ensureOrder builds the pre-order of the rows once, for searching.
func (m *Model) ensureOrder() {
	if m.pos != nil {
		return
	}
	m.order = m.res.Preorder()
	m.pos = make([]int32, len(m.res.Rows))
	for i, r := range m.order {
		m.pos[r] = int32(i)
	}
}

// refreshMatches lists the rows under the root whose names match: a scan
// of the root's subtree in pre-order, without touching the strings.
func (m *Model) refreshMatches() {
	m.matches = m.matches[:0]
	if m.query == "" || m.tree == nil {
		return
	}
	m.ensureOrder()
	root := m.tree.ix.root
	start := m.pos[root]
	end := start + m.res.Rows[root].Size
	for _, r := range m.order[start:end] {
		if m.rowMatches(r) {
			m.matches = append(m.matches, r)
		}
	}
	m.match = 0
}

// stepMatch goes to the next (+1) or previous (-1) match after the cursor.
func (m *Model) stepMatch(dir int) {
	if len(m.matches) == 0 {
		m.note = "/" + m.query + ": no match"
		return
	}
	m.ensureOrder()
	cur := m.pos[m.tree.Row()]
	var i int
	if dir > 0 {
		i = sort.Search(len(m.matches), func(i int) bool { return m.pos[m.matches[i]] > cur })
	} else {
		i = sort.Search(len(m.matches), func(i int) bool { return m.pos[m.matches[i]] >= cur }) - 1
	}
	n := len(m.matches)
	m.showMatch((i%n + n) % n)
}

func (m *Model) showMatch(i int) {
	m.match = i
	m.reveal(m.matches[i])
}
