package storetest

import (
	"os"
	"testing"
)

// JournalCutInsideRecord returns an offset at or after at that falls inside the data of
// a chunk of the goleveldb journal at path (32 KiB blocks of chunks, each a
// 7-byte header — checksum, uint16 length, type — and its data): a journal
// cut between records, or inside a chunk's header, reads as one that ended
// there, which no reader can tell from a clean end (with replicas,
// anti-entropy still brings the lost writes back; the test checks what can
// be detected). A plain cut at half the size landed on a boundary in about
// one run in a hundred.
func JournalCutInsideRecord(t testing.TB, path string, at int64) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const block, header = 32 << 10, 7
	for pos := int64(0); pos+header <= int64(len(b)); {
		if rest := block - pos%block; rest < header { // a block's tail too short for a header is padding
			pos += rest
			continue
		}
		n := int64(b[pos+4]) | int64(b[pos+5])<<8
		end := pos + header + n
		if (end >= at || end >= int64(len(b))) && n >= 2 && end <= int64(len(b)) {
			return pos + header + n/2 // inside this chunk's data
		}
		pos = end
	}
	t.Fatalf("no chunk in %s reaches offset %d", path, at)
	return 0
}
