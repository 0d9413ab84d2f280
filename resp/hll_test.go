package resp

import (
	"fmt"
	"testing"

	"github.com/dynakv/dynakv/crdt"
)

func TestHyperLogLog(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	var want crdt.HLL
	for i := range 1000 {
		want.Add([]byte(fmt.Sprint("e", i)))
	}
	var wantB crdt.HLL
	for i := 500; i < 1500; i++ {
		wantB.Add([]byte(fmt.Sprint("e", i)))
	}
	union := want.Clone()
	union.Merge(&wantB)
	runRaw(t, c, []rawCase{
		{cmd("PFADD", "h", "a", "b", "c"), integer(1)},
		{cmd("PFADD", "h", "a"), integer(0)},
		{cmd("PFCOUNT", "h"), integer(3)},
		{cmd("PFADD", "empty"), integer(1)}, // creates the key
		{cmd("PFADD", "empty"), integer(0)},
		{cmd("PFCOUNT", "empty"), integer(0)},
		{cmd("EXISTS", "empty"), integer(1)},
		{cmd("TYPE", "h"), simple("string")},
		{cmd("PFCOUNT", "missing"), integer(0)},
		{cmd("SET", "s", "x"), okReply},
		{cmd("PFADD", "s", "a"), errReply(errNotHLL)},
		{cmd("PFCOUNT", "s"), errReply(errNotHLL)},
		{cmd("PFCOUNT", "h", "s"), errReply(errNotHLL)},
		{cmd("PFMERGE", "s", "h"), errReply(errNotHLL)},
		{cmd("INCR", "n"), integer(1)},
		{cmd("PFADD", "n", "a"), errReply(errNotHLL)},
		{cmd("PFADD"), errReply("ERR wrong number of arguments for 'pfadd' command")},
	})
	args := []string{"PFADD", "big"}
	for i := range 1000 {
		args = append(args, fmt.Sprint("e", i))
	}
	runRaw(t, c, []rawCase{{args, integer(1)}, {cmd("PFCOUNT", "big"), integer(int64(want.Count()))}})
	args = []string{"PFADD", "big2"}
	for i := 500; i < 1500; i++ {
		args = append(args, fmt.Sprint("e", i))
	}
	runRaw(t, c, []rawCase{
		{args, integer(1)},
		{cmd("PFCOUNT", "big", "big2"), integer(int64(union.Count()))},
		{cmd("PFMERGE", "m", "big", "big2"), okReply},
		{cmd("PFCOUNT", "m"), integer(int64(union.Count()))},
		{cmd("PFMERGE", "m"), okReply},
		{cmd("PFCOUNT", "m"), integer(int64(union.Count()))},
		{cmd("DEL", "m"), integer(1)},
		{cmd("PFCOUNT", "m"), integer(0)},
	})
}
