package resp

import "github.com/dynakv/dynakv/replication"

// Sorted sets in DUMP's payload (dump_format.go): a kind of collection
// whose elements hold scores, so COPY, RENAME, DUMP and RESTORE carry
// them as they carry a hash's fields; each version of an element must be a
// score (a counter's reads as its value).
func init() {
	registerDumpKind(dumpKind{code: typeZSet, typ: typeZSet, valid: func(_ []byte, vs []copyVersion) bool {
		for _, v := range vs {
			if _, ok := replication.ParseScore(v.value); v.hll || !ok {
				return false
			}
		}
		return true
	}})
}
