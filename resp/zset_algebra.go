package resp

import (
	"bytes"
	"cmp"
	"math"
	"slices"
)

// The algebra of sorted sets: ZUNION, ZINTER, ZDIFF, their STORE forms and
// ZINTERCARD. Each reads its sources one by one (per key, not atomically);
// a set is a source whose members score 1, as in Redis. A STORE replaces
// its destination as DEL then ZADD would.

// zsource is one input of the algebra: its members and scores, and its
// weight.
type zsource struct {
	members map[string]float64
	order   [][]byte // the members, in the order read
	weight  float64
}

// readZSource reads key as an input: a sorted set, a set (scores 1), or
// nothing; another type is WRONGTYPE.
func (c *Conn) readZSource(key []byte) (*zsource, error) {
	src := &zsource{members: map[string]float64{}, weight: 1}
	t, _, ok, err := c.keyType(key)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return src, nil
	case t == typeSet:
		ms, err := c.members(key)
		for _, m := range ms {
			src.members[string(m)] = 1
			src.order = append(src.order, m)
		}
		return src, err
	case t == typeZSet:
		ms, err := c.zmembers(key, false)
		for _, m := range ms {
			src.members[string(m.member)] = m.score
			src.order = append(src.order, m.member)
		}
		return src, err
	}
	return nil, &clientError{errWrongType}
}

// checkZSource checks that key holds a set, a sorted set or nothing.
func (c *Conn) checkZSource(key []byte) error {
	t, _, ok, err := c.keyType(key)
	if err == nil && ok && t != typeSet && t != typeZSet {
		return &clientError{errWrongType}
	}
	return err
}

// weighted returns score times weight, 0 for NaN (0 times an infinity), as
// Redis computes it.
func weighted(score, weight float64) float64 {
	if r := score * weight; !math.IsNaN(r) {
		return r
	}
	return 0
}

// aggregate combines two scores: sum (NaN, an infinity less itself, is 0),
// min or max.
func aggregate(how byte, a, b float64) float64 {
	switch how {
	case 'n':
		return math.Min(a, b)
	case 'x':
		return math.Max(a, b)
	}
	if r := a + b; !math.IsNaN(r) {
		return r
	}
	return 0
}

// zalgebra computes op ('|', '&', '-') over srcs with the aggregate how
// ('s' sum, 'n' min, 'x' max), sorted by score then member.
func zalgebra(op, how byte, srcs []*zsource) []scoredMember {
	var out []scoredMember
	first := srcs[0]
	switch op {
	case '|':
		acc := map[string]float64{}
		var order [][]byte
		for _, s := range srcs {
			for _, m := range s.order {
				f := weighted(s.members[string(m)], s.weight)
				if prev, ok := acc[string(m)]; ok {
					acc[string(m)] = aggregate(how, prev, f)
				} else {
					acc[string(m)] = f
					order = append(order, m)
				}
			}
		}
		for _, m := range order {
			out = append(out, scoredMember{member: m, score: acc[string(m)]})
		}
	case '&':
	members:
		for _, m := range first.order {
			f := weighted(first.members[string(m)], first.weight)
			for _, s := range srcs[1:] {
				g, ok := s.members[string(m)]
				if !ok {
					continue members
				}
				f = aggregate(how, f, weighted(g, s.weight))
			}
			out = append(out, scoredMember{member: m, score: f})
		}
	case '-':
	diff:
		for _, m := range first.order {
			for _, s := range srcs[1:] {
				if _, ok := s.members[string(m)]; ok {
					continue diff
				}
			}
			out = append(out, scoredMember{member: m, score: first.members[string(m)]})
		}
	}
	slices.SortFunc(out, func(a, b scoredMember) int {
		return cmp.Or(cmp.Compare(a.score, b.score), bytes.Compare(a.member, b.member))
	})
	return out
}

// zalgebraArgs are the parsed arguments of ZUNION and its kin.
type zalgebraArgs struct {
	keys       [][]byte
	weights    []float64
	how        byte
	withScores bool
	limit      int64
}

// parseZAlgebra parses the arguments from numkeys on, as Redis's
// zunionInterDiffGenericCommand: numkeys, the keys (type-checked before the
// options are read), then WEIGHTS, AGGREGATE, WITHSCORES (not for a
// STORE), LIMIT (ZINTERCARD only).
func (c *Conn) parseZAlgebra(name string, args [][]byte, op byte, store, card bool) (zalgebraArgs, error) {
	a := zalgebraArgs{how: 's'}
	n, ok := string2ll(args[0])
	switch {
	case !ok:
		return a, &clientError{errNotInteger}
	case n < 1:
		return a, &clientError{"ERR at least 1 input key is needed for '" + name + "' command"}
	case n > int64(len(args)-1):
		return a, &clientError{errSyntax}
	}
	a.keys = args[1 : 1+n]
	for _, k := range a.keys {
		if err := c.checkZSource(k); err != nil {
			return a, err
		}
	}
	for rest := args[1+n:]; len(rest) > 0; {
		switch {
		case op != '-' && !card && len(rest) >= len(a.keys)+1 && eqFold(rest[0], "weights"):
			a.weights = make([]float64, len(a.keys))
			for i := range a.keys {
				w, ok := parseScore(rest[1+i])
				if !ok {
					return a, &clientError{"ERR weight value is not a float"}
				}
				a.weights[i] = w
			}
			rest = rest[1+len(a.keys):]
		case op != '-' && !card && len(rest) >= 2 && eqFold(rest[0], "aggregate"):
			switch {
			case eqFold(rest[1], "sum"):
				a.how = 's'
			case eqFold(rest[1], "min"):
				a.how = 'n'
			case eqFold(rest[1], "max"):
				a.how = 'x'
			default:
				return a, &clientError{errSyntax}
			}
			rest = rest[2:]
		case !store && !card && eqFold(rest[0], "withscores"):
			a.withScores = true
			rest = rest[1:]
		case card && len(rest) >= 2 && eqFold(rest[0], "limit"):
			l, ok := string2ll(rest[1])
			if !ok || l < 0 {
				return a, &clientError{"ERR LIMIT can't be negative"}
			}
			a.limit = l
			rest = rest[2:]
		default:
			return a, &clientError{errSyntax}
		}
	}
	return a, nil
}

// runZAlgebra reads the sources and computes the result.
func (c *Conn) runZAlgebra(op byte, a zalgebraArgs) ([]scoredMember, error) {
	srcs := make([]*zsource, len(a.keys))
	for i, k := range a.keys {
		s, err := c.readZSource(k)
		if err != nil {
			return nil, err
		}
		if a.weights != nil {
			s.weight = a.weights[i]
		}
		srcs[i] = s
	}
	return zalgebra(op, a.how, srcs), nil
}

// zalgebraCommand implements ZUNION, ZINTER, ZDIFF and (store) their STORE
// forms.
func zalgebraCommand(op byte, store bool) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		name := string(bytes.ToLower(args[0]))
		from := 1
		if store {
			from = 2
		}
		a, err := c.parseZAlgebra(name, args[from:], op, store, false)
		if err != nil {
			c.fail(err)
			return
		}
		ms, err := c.runZAlgebra(op, a)
		if err != nil {
			c.fail(err)
			return
		}
		if !store {
			c.replyScored(ms, a.withScores)
			return
		}
		n, err := c.storeZSet(args[1], ms)
		if c.updateOK(err) {
			c.out.Int(n)
		}
	}
}

func cmdZInterCard(c *Conn, args [][]byte) {
	a, err := c.parseZAlgebra("zintercard", args[1:], '&', false, true)
	if err != nil {
		c.fail(err)
		return
	}
	ms, err := c.runZAlgebra('&', a)
	if err != nil {
		c.fail(err)
		return
	}
	n := int64(len(ms))
	if a.limit > 0 {
		n = min(n, a.limit)
	}
	c.out.Int(n)
}
