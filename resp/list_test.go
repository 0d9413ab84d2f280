package resp

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// TestLists: the list commands with Redis's replies and errors (the same
// as redis-server 7.0's for these cases).
func TestLists(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	wrong := errReply("WRONGTYPE Operation against a key holding the wrong kind of value")
	null := "$-1\r\n"
	nullArray := "*-1\r\n"
	runRaw(t, c, []rawCase{
		{cmd("RPUSH", "l", "a", "b", "c"), integer(3)},
		{cmd("LPUSH", "l", "x", "y"), integer(5)},
		{cmd("LRANGE", "l", "0", "-1"), bulks("y", "x", "a", "b", "c")},
		{cmd("LRANGE", "l", "-2", "-1"), bulks("b", "c")},
		{cmd("LRANGE", "l", "1", "-2"), bulks("x", "a", "b")},
		{cmd("LRANGE", "l", "-100", "1"), bulks("y", "x")},
		{cmd("LRANGE", "l", "3", "1"), array()},
		{cmd("LRANGE", "l", "5", "10"), array()},
		{cmd("LRANGE", "l", "a", "1"), errReply("ERR value is not an integer or out of range")},
		{cmd("LINDEX", "l", "-1"), bulk("c")},
		{cmd("LINDEX", "l", "1"), bulk("x")},
		{cmd("LINDEX", "l", "5"), null},
		{cmd("LINDEX", "l", "-6"), null},
		{cmd("LLEN", "l"), integer(5)},
		{cmd("TYPE", "l"), simple("list")},
		{cmd("OBJECT", "ENCODING", "l"), bulk("quicklist")},
		{cmd("LPOP", "l"), bulk("y")},
		{cmd("RPOP", "l", "2"), bulks("c", "b")},
		{cmd("LINSERT", "l", "BEFORE", "b", "B"), integer(-1)},
		{cmd("LINSERT", "l", "AFTER", "a", "A"), integer(3)},
		{cmd("LINSERT", "l", "BEFORE", "x", "X"), integer(4)},
		{cmd("LINSERT", "l", "MIDDLE", "x", "X"), errReply("ERR syntax error")},
		{cmd("LINSERT", "nolist", "BEFORE", "x", "X"), integer(0)},
		{cmd("LRANGE", "l", "0", "-1"), bulks("X", "x", "a", "A")},
		{cmd("LSET", "l", "-1", "Z"), okReply},
		{cmd("LSET", "l", "10", "Z"), errReply("ERR index out of range")},
		{cmd("LSET", "nolist", "0", "Z"), errReply("ERR no such key")},
		{cmd("RPUSH", "l", "b", "b", "c", "b"), integer(8)},
		{cmd("LREM", "l", "-2", "b"), integer(2)},
		{cmd("LRANGE", "l", "0", "-1"), bulks("X", "x", "a", "Z", "b", "c")},
		{cmd("LPOS", "l", "b"), integer(4)},
		{cmd("LPOS", "l", "nothing"), null},
		{cmd("LPOS", "l", "x", "RANK", "0"), errReply("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")},
		{cmd("LPOS", "l", "x", "COUNT", "-1"), errReply("ERR COUNT can't be negative")},
		{cmd("LPOS", "l", "x", "MAXLEN", "-1"), errReply("ERR MAXLEN can't be negative")},
		{cmd("LPOS", "l", "x", "FOO", "1"), errReply("ERR syntax error")},
		{cmd("LTRIM", "l", "1", "-2"), okReply},
		{cmd("LRANGE", "l", "0", "-1"), bulks("x", "a", "Z", "b")},
		{cmd("LMOVE", "l", "l2", "LEFT", "RIGHT"), bulk("x")},
		{cmd("LMOVE", "l", "l2", "UP", "RIGHT"), errReply("ERR syntax error")},
		{cmd("RPOPLPUSH", "l", "l2"), bulk("b")},
		{cmd("LRANGE", "l2", "0", "-1"), bulks("b", "x")},
		{cmd("RPOPLPUSH", "nolist", "l2"), null},
		{cmd("LMPOP", "2", "nolist", "l2", "RIGHT", "COUNT", "5"), array(bulk("l2"), bulks("x", "b"))},
		{cmd("LMPOP", "1", "nolist", "LEFT"), nullArray},
		{cmd("LMPOP", "0", "l", "LEFT"), errReply("ERR numkeys should be greater than 0")},
		{cmd("LMPOP", "3", "l", "LEFT"), errReply("ERR syntax error")},
		{cmd("LMPOP", "1", "l", "LEFT", "COUNT", "0"), errReply("ERR count should be greater than 0")},
		{cmd("LMPOP", "1", "l", "UP"), errReply("ERR syntax error")},
		{cmd("EXISTS", "l2"), integer(0)},
		{cmd("LPOP", "nolist", "3"), nullArray},
		{cmd("LPOP", "nolist"), null},
		{cmd("LPOP", "l", "0"), array()},
		{cmd("LPOP", "l", "-1"), errReply("ERR value is out of range, must be positive")},
		{cmd("LPUSHX", "nolist", "a"), integer(0)},
		{cmd("RPUSHX", "l", "q"), integer(3)},
		{cmd("LPOP", "l", "10"), bulks("a", "Z", "q")},
		{cmd("EXISTS", "l"), integer(0)},
		{cmd("LLEN", "l"), integer(0)},
		{cmd("LRANGE", "l", "0", "-1"), array()},
		// Type conflicts in Redis's words.
		{cmd("SET", "str", "v"), okReply},
		{cmd("LPUSH", "str", "a"), wrong},
		{cmd("LLEN", "str"), wrong},
		{cmd("LRANGE", "str", "0", "-1"), wrong},
		{cmd("LPOP", "str"), wrong},
		{cmd("RPUSH", "lst", "a"), integer(1)},
		{cmd("GET", "lst"), wrong},
		{cmd("SADD", "lst", "a"), wrong},
		{cmd("LMOVE", "lst", "str", "LEFT", "LEFT"), wrong},
		{cmd("LRANGE", "lst", "0", "-1"), bulks("a")}, // nothing popped
		// DEL and SET replace a list, with its items.
		{cmd("DEL", "lst"), integer(1)},
		{cmd("RPUSH", "lst", "b"), integer(1)},
		{cmd("LRANGE", "lst", "0", "-1"), bulks("b")},
		{cmd("SET", "lst", "s"), okReply},
		{cmd("RPUSH", "lst2", "c"), integer(1)},
		{cmd("GET", "lst"), bulk("s")},
	})
}

// TestListModel drives random list commands against a model of Redis's
// list semantics, so every index rule (negative, out of range, clamped)
// is compared on many shapes.
func TestListModel(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	rng := rand.New(rand.NewPCG(3, 4))
	var model []string
	vals := []string{"a", "b", "c", "d"}
	idx := func() int64 { return int64(rng.IntN(14) - 7) }
	norm := func(start, stop int64) (int64, int64, bool) {
		n := int64(len(model))
		if start < 0 {
			start += n
		}
		if stop < 0 {
			stop += n
		}
		start = max(start, 0)
		if start > stop || start >= n {
			return 0, 0, false
		}
		return start, min(stop, n-1), true
	}
	for step := range 600 {
		v := vals[rng.IntN(len(vals))]
		var got, want string
		switch op := rng.IntN(10); op {
		case 0, 1:
			got = c.do("RPUSH", "m", v, v+"2")
			model = append(model, v, v+"2")
			want = integer(int64(len(model)))
		case 2:
			got = c.do("LPUSH", "m", v)
			model = append([]string{v}, model...)
			want = integer(int64(len(model)))
		case 3:
			s, e2 := idx(), idx()
			got = c.do("LRANGE", "m", strconv.FormatInt(s, 10), strconv.FormatInt(e2, 10))
			want = array()
			if a, b, ok := norm(s, e2); ok {
				want = bulks(model[a : b+1]...)
			}
		case 4:
			i := idx()
			got = c.do("LINDEX", "m", strconv.FormatInt(i, 10))
			want = "$-1\r\n"
			if j := map[bool]int64{true: i + int64(len(model)), false: i}[i < 0]; j >= 0 && j < int64(len(model)) {
				want = bulk(model[j])
			}
		case 5:
			n := int64(rng.IntN(3) - 1)
			got = c.do("LREM", "m", strconv.FormatInt(n, 10), v)
			removed := 0
			keep := slices.Clone(model)
			order := make([]int, len(model))
			for i := range order {
				order[i] = i
			}
			if n < 0 {
				slices.Reverse(order)
			}
			drop := map[int]bool{}
			for _, i := range order {
				if model[i] == v && (n == 0 || int64(removed) < max(n, -n)) {
					drop[i] = true
					removed++
				}
			}
			keep = keep[:0]
			for i, x := range model {
				if !drop[i] {
					keep = append(keep, x)
				}
			}
			model = keep
			want = integer(int64(removed))
		case 6:
			if rng.IntN(4) != 0 { // trims empty the list fast: fewer of them
				continue
			}
			s, e2 := idx(), idx()
			got = c.do("LTRIM", "m", strconv.FormatInt(s, 10), strconv.FormatInt(e2, 10))
			want = okReply
			if a, b, ok := norm(s, e2); ok {
				model = slices.Clone(model[a : b+1])
			} else {
				model = nil
			}
		case 7:
			where := []string{"BEFORE", "AFTER"}[rng.IntN(2)]
			got = c.do("LINSERT", "m", where, v, "i"+v)
			p := slices.Index(model, v)
			switch {
			case len(model) == 0:
				want = integer(0)
			case p < 0:
				want = integer(-1)
			default:
				if where == "AFTER" {
					p++
				}
				model = slices.Insert(model, p, "i"+v)
				want = integer(int64(len(model)))
			}
		case 8:
			rank := []int{1, -1, 2, -2}[rng.IntN(4)]
			got = c.do("LPOS", "m", v, "RANK", strconv.Itoa(rank), "COUNT", "0")
			var pos []int64
			for i, x := range model {
				if x == v {
					pos = append(pos, int64(i))
				}
			}
			if rank < 0 {
				slices.Reverse(pos)
			}
			pos = pos[min(len(pos), max(rank, -rank)-1):]
			var ps []string
			for _, p := range pos {
				ps = append(ps, integer(p))
			}
			want = array(ps...)
		case 9:
			tail := rng.IntN(2) == 0
			cmdName, n := "LPOP", min(int64(rng.IntN(3)+1), int64(len(model)))
			if tail {
				cmdName = "RPOP"
			}
			got = c.do(cmdName, "m", strconv.FormatInt(n, 10))
			var popped []string
			for range n {
				if tail {
					popped, model = append(popped, model[len(model)-1]), model[:len(model)-1]
				} else {
					popped, model = append(popped, model[0]), model[1:]
				}
			}
			want = bulks(popped...)
			if len(model) == 0 && n == 0 {
				want = "*-1\r\n"
			}
		}
		if got != want {
			t.Fatalf("step %d: got %q, want %q (model %q)", step, got, want, model)
		}
		if step%50 == 0 {
			if got, want := c.do("LRANGE", "m", "0", "-1"), bulks(model...); got != want && !(len(model) == 0 && got == array()) {
				t.Fatalf("step %d: list %q, model %q", step, got, model)
			}
		}
	}
}

// TestLPosRanks: LPOS's RANK from either end, COUNT and MAXLEN.
func TestLPosRanks(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"), integer(8)},
		{cmd("LPOS", "l", "c"), integer(2)},
		{cmd("LPOS", "l", "c", "RANK", "2"), integer(6)},
		{cmd("LPOS", "l", "c", "RANK", "-1"), integer(7)},
		{cmd("LPOS", "l", "c", "RANK", "-3"), integer(2)},
		{cmd("LPOS", "l", "c", "RANK", "-4"), "$-1\r\n"},
		{cmd("LPOS", "l", "c", "COUNT", "0"), array(integer(2), integer(6), integer(7))},
		{cmd("LPOS", "l", "c", "COUNT", "2", "RANK", "-1"), array(integer(7), integer(6))},
		{cmd("LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"), array(integer(2), integer(6))},
		{cmd("LPOS", "l", "c", "RANK", "-1", "MAXLEN", "1", "COUNT", "0"), array(integer(7))},
		{cmd("LPOS", "l", "x", "COUNT", "0"), array()},
		{cmd("LPOS", "nolist", "x", "COUNT", "0"), array()},
	})
}

// TestPushGroupsDoNotInterleave: the ids of two multi-value pushes after
// the same last item (as two coordinators allocate them at once) sort as
// two blocks, never interleaved.
func TestPushGroupsDoNotInterleave(t *testing.T) {
	last, _ := idBetween(nil, nil, idMiddle, 5, 1)
	a, _ := idBetween(last, nil, idAfter, 6, 1)
	b, _ := idBetween(last, nil, idAfter, 7, 1) // the same digit, another writer
	ga, gb := groupIDs(a, 5), groupIDs(b, 5)
	all := append(slices.Clone(ga), gb...)
	slices.SortFunc(all, bytes.Compare)
	for i := range all {
		want := ga
		if bytes.Compare(a, b) > 0 {
			want = gb
		}
		if i >= 5 {
			want = map[bool][][]byte{true: gb, false: ga}[bytes.Equal(want[0], ga[0])]
		}
		if !bytes.Equal(all[i], want[i%5]) {
			t.Fatalf("position %d: the groups interleave", i)
		}
		if bytes.Compare(all[i], last) <= 0 {
			t.Fatalf("position %d: not after the last item", i)
		}
	}
}

// TestListPopsOnceThroughOneNode: clients popping one list at once through
// one coordinator each get different items, every item once.
func TestListPopsOnceThroughOneNode(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	const n = 200
	args := []string{"RPUSH", "q"}
	for i := range n {
		args = append(args, strconv.Itoa(i))
	}
	if got := c.do(args...); got != integer(n) {
		t.Fatalf("RPUSH: %q", got)
	}
	results := make(chan []string, 4)
	for range 4 {
		go func() {
			cc := e.dial()
			var got []string
			for {
				r := cc.do("LPOP", "q")
				if r == "$-1\r\n" {
					break
				}
				got = append(got, r)
			}
			results <- got
		}()
	}
	seen := map[string]bool{}
	for range 4 {
		for _, r := range <-results {
			if seen[r] {
				t.Fatalf("%q popped twice", r)
			}
			seen[r] = true
		}
	}
	if len(seen) != n {
		t.Fatalf("%d items popped, want %d", len(seen), n)
	}
	for i := range n {
		if !seen[bulk(strconv.Itoa(i))] {
			t.Fatal(fmt.Sprint("item ", i, " never popped"))
		}
	}
}

// TestListCopies: COPY, RENAME and DUMP/RESTORE of a list keep its items
// in order.
func TestListCopies(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	runRaw(t, c, []rawCase{
		{cmd("RPUSH", "src", "a", "b", "c"), integer(3)},
		{cmd("LPUSH", "src", "z"), integer(4)},
		{cmd("COPY", "src", "cp"), integer(1)},
		{cmd("LRANGE", "cp", "0", "-1"), bulks("z", "a", "b", "c")},
		{cmd("RENAME", "cp", "mv"), okReply},
		{cmd("LRANGE", "mv", "0", "-1"), bulks("z", "a", "b", "c")},
		{cmd("EXISTS", "cp"), integer(0)},
	})
	dump := c.do("DUMP", "src")
	v, ok := decode(t, dump).(string)
	if !ok {
		t.Fatalf("DUMP: %q", dump)
	}
	runRaw(t, c, []rawCase{
		{cmd("RESTORE", "rs", "0", v), okReply},
		{cmd("LRANGE", "rs", "0", "-1"), bulks("z", "a", "b", "c")},
		{cmd("RPUSH", "rs", "d"), integer(5)},
		{cmd("LINDEX", "rs", "-1"), bulk("d")},
	})
}

// TestNotifyLists: the list commands' keyspace events, in the order
// redis-server 7.0.15 published them for the same commands.
func TestNotifyLists(t *testing.T) {
	e := newTestEnv(t)
	n := newNotifySubscriber(t, e, "KEAn")
	c := e.dial()
	n.run(c, []notifyStep{
		{cmd("RPUSH", "l", "a", "b", "c"), integer(3), evs(both("l", "new"), both("l", "rpush"))},
		{cmd("LPUSH", "l", "z"), integer(4), both("l", "lpush")},
		{cmd("LPUSHX", "nokey", "a"), integer(0), nil},
		{cmd("LINSERT", "l", "BEFORE", "b", "B"), integer(5), both("l", "linsert")},
		{cmd("LSET", "l", "0", "Z"), okReply, both("l", "lset")},
		{cmd("LREM", "l", "0", "nothing"), integer(0), nil},
		{cmd("LREM", "l", "1", "B"), integer(1), both("l", "lrem")},
		{cmd("LTRIM", "l", "0", "-1"), okReply, both("l", "ltrim")},
		{cmd("LMOVE", "l", "l2", "LEFT", "RIGHT"), bulk("Z"), evs(both("l2", "new"), both("l2", "rpush"), both("l", "lpop"))},
		{cmd("RPOPLPUSH", "l", "l2"), bulk("c"), evs(both("l2", "lpush"), both("l", "rpop"))},
		{cmd("LPOP", "l", "5"), bulks("a", "b"), evs(both("l", "lpop"), both("l", "del"))},
		{cmd("LMPOP", "1", "l2", "RIGHT", "COUNT", "1"), array(bulk("l2"), bulks("Z")), both("l2", "rpop")},
		{cmd("RPOP", "l2"), bulk("c"), evs(both("l2", "rpop"), both("l2", "del"))},
		{cmd("LPOP", "nokey"), "$-1\r\n", nil},
	})
}
