package spool

// run is a stretch of consecutive seqs stored in a segment. Seqs have
// gaps only where an Append failed, so a segment holds very few runs.
type run struct{ first, last uint64 }

// segment is one segment file as the spool knows it.
type segment struct {
	name string // path
	base uint64
	size int64 // bytes of its valid part: header and whole records
	runs []run
	f    File // the writer's handle for the active segment, else a reader's or nil
	// dirtyTail is how many bytes after size may hold the remains of a
	// failed write that could not be cut off.
	dirtyTail int64
}

func (g *segment) count() uint64 {
	var n uint64
	for _, r := range g.runs {
		n += r.last - r.first + 1
	}
	return n
}

// last is the seq of its newest record, base-1 when it has none.
func (g *segment) last() uint64 {
	if len(g.runs) == 0 {
		return g.base - 1
	}
	return g.runs[len(g.runs)-1].last
}

func (g *segment) first() uint64 {
	if len(g.runs) == 0 {
		return g.base
	}
	return g.runs[0].first
}

// countIn counts its records with lo < seq <= hi.
func (g *segment) countIn(lo, hi uint64) uint64 {
	var n uint64
	for _, r := range g.runs {
		a, b := max(r.first, lo+1), min(r.last, hi)
		if a <= b {
			n += b - a + 1
		}
	}
	return n
}

// add records seq, which is greater than every seq it holds.
func (g *segment) add(seq uint64) {
	if k := len(g.runs); k > 0 && g.runs[k-1].last+1 == seq {
		g.runs[k-1].last = seq
		return
	}
	g.runs = append(g.runs, run{seq, seq})
}

// cut forgets its records after seq and returns how many they were.
func (g *segment) cut(seq uint64) uint64 {
	n := g.countIn(seq, ^uint64(0))
	k := 0
	for _, r := range g.runs {
		if r.first > seq {
			break
		}
		r.last = min(r.last, seq)
		g.runs[k] = r
		k++
	}
	g.runs = g.runs[:k]
	return n
}

func (g *segment) close() {
	if g.f != nil {
		g.f.Close()
		g.f = nil
	}
}
