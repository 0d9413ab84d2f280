package resp

// bitCommands are the string-range and bitmap commands (strings_range.go,
// bits.go, bitfield.go), with Redis 7.0's arities, flags and key positions.
func bitCommands() []*command {
	key1 := func(name, group, since, summary string, arity int, flags []string, args []argDoc, fn func(*Conn, [][]byte)) *command {
		return &command{name: name, arity: arity, flags: flags, firstKey: 1, lastKey: 1, step: 1, group: group, since: since, summary: summary, args: args, fn: fn}
	}
	rw, ro := []string{"write", "denyoom"}, []string{"readonly"}
	unit := opt(oneOf("unit", token("BYTE"), token("BIT")))
	bfGetArgs := argDoc{name: "get-block", typ: "block", token: "GET", sub: []argDoc{argStr("encoding"), argInt("offset")}}
	return []*command{
		key1("getrange", "string", "2.4.0", "Returns a substring of the string stored at a key.", 4, ro,
			[]argDoc{argKey("key"), argInt("start"), argInt("end")}, cmdGetRange),
		key1("substr", "string", "1.0.0", "Returns a substring from a string value.", 4, ro,
			[]argDoc{argKey("key"), argInt("start"), argInt("end")}, cmdGetRange),
		key1("setrange", "string", "2.2.0", "Overwrites a part of a string value with another by an offset (a read-modify-write of the newest version). Creates the key if it doesn't exist.", 4, rw,
			[]argDoc{argKey("key"), argInt("offset"), argStr("value")}, cmdSetRange),
		{name: "lcs", arity: -3, flags: ro, firstKey: 1, lastKey: 2, step: 1, group: "string", since: "7.0.0",
			summary: "Finds the longest common substring (the keys are read one by one).",
			args: []argDoc{argKey("key1"), argKey("key2"), opt(token("LEN")), opt(token("IDX")),
				opt(tokenArg("MINMATCHLEN", argInt("min-match-len"))), opt(token("WITHMATCHLEN"))}, fn: cmdLCS},
		key1("setbit", "bitmap", "2.2.0", "Sets or clears the bit at offset of the string value (a read-modify-write of the newest version). Creates the key if it doesn't exist.", 4, rw,
			[]argDoc{argKey("key"), argInt("offset"), argInt("value")}, cmdSetBit),
		key1("getbit", "bitmap", "2.2.0", "Returns a bit value by offset.", 3, []string{"readonly", "fast"},
			[]argDoc{argKey("key"), argInt("offset")}, cmdGetBit),
		key1("bitcount", "bitmap", "2.6.0", "Counts the number of set bits (population counting) in a string.", -2, ro,
			[]argDoc{argKey("key"), opt(argDoc{name: "range", typ: "block", sub: []argDoc{argInt("start"), argInt("end"), unit}})}, cmdBitCount),
		key1("bitpos", "bitmap", "2.8.7", "Finds the first set (1) or clear (0) bit in a string.", -3, ro,
			[]argDoc{argKey("key"), argInt("bit"), opt(argDoc{name: "range", typ: "block", sub: []argDoc{argInt("start"),
				opt(argDoc{name: "end-unit-block", typ: "block", sub: []argDoc{argInt("end"), unit}})}})}, cmdBitPos),
		{name: "bitop", arity: -4, flags: rw, firstKey: 2, lastKey: -1, step: 1, group: "bitmap", since: "2.6.0",
			summary: "Performs bitwise operations on multiple strings, and stores the result (the sources are read one by one, not atomically).",
			args:    []argDoc{argStr("operation"), argKey("destkey"), many(argKey("key"))}, fn: cmdBitOp},
		key1("bitfield", "bitmap", "3.2.0", "Performs arbitrary bitfield integer operations on strings (one read-modify-write of the newest version).", -2, rw,
			[]argDoc{argKey("key"), opt(many(oneOf("operation", bfGetArgs,
				argDoc{name: "write", typ: "block", sub: []argDoc{
					opt(tokenArg("OVERFLOW", oneOf("overflow-block", token("WRAP"), token("SAT"), token("FAIL")))),
					oneOf("write-operation",
						argDoc{name: "set-block", typ: "block", token: "SET", sub: []argDoc{argStr("encoding"), argInt("offset"), argInt("value")}},
						argDoc{name: "incrby-block", typ: "block", token: "INCRBY", sub: []argDoc{argStr("encoding"), argInt("offset"), argInt("increment")}})}})))},
			cmdBitfield),
		key1("bitfield_ro", "bitmap", "6.0.0", "Performs arbitrary read-only bitfield integer operations on strings.", -2, []string{"readonly", "fast"},
			[]argDoc{argKey("key"), opt(many(bfGetArgs))}, cmdBitfieldRO),
	}
}
