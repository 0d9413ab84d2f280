package resp

import (
	"bytes"
	"testing"
)

// FuzzDumpPayload feeds the payload decoder arbitrary bytes: it must never
// panic nor allocate beyond what the input can hold, and whatever it
// accepts must encode back to a payload that decodes to the same content.
//
//	go test ./resp -run '^$' -fuzz FuzzDumpPayload -fuzztime 1m
func FuzzDumpPayload(f *testing.F) {
	f.Add(sealPayload(appendVersions([]byte{dumpVersion, 'v'}, []copyVersion{{value: []byte("bar")}, {value: []byte("baz")}})))
	f.Add(sealPayload(append(appendElement([]byte{dumpVersion, typeSet}, []byte("m"), []copyVersion{{value: []byte{}}}), 0)))
	f.Add(sealPayload(append(appendElement([]byte{dumpVersion, typeHash}, []byte("f"), []copyVersion{{value: []byte("v")}}), 0)))
	f.Add([]byte{dumpVersion, 'v', 1, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, p []byte) {
		// Half the inputs get a right checksum, so the body's decoding is
		// what is exercised.
		if len(p) > 0 && p[0]&1 == 1 {
			p = sealPayload(p)
		}
		got, ok := decodeAll(p)
		if !ok {
			return
		}
		again, ok := decodeAll(encodeAll(got))
		if !ok || !bytes.Equal(encodeAll(again), encodeAll(got)) {
			t.Fatalf("%x decoded, re-encoded and decoded again differs", p)
		}
	})
}

// decoded is a payload's content.
type decoded struct {
	kind     dumpKind
	versions []copyVersion
	elements []copyElement
}

func decodeAll(p []byte) (decoded, bool) {
	var d decoded
	err := decodePayload(p, payloadVisitor{
		head: func(k dumpKind, vs []copyVersion) error { d.kind, d.versions = k, vs; return nil },
		elements: func(batch []copyElement) error {
			if len(batch) > copyBatch {
				panic("a batch over copyBatch")
			}
			d.elements = append(d.elements, batch...)
			return nil
		},
	})
	return d, err == nil
}

func encodeAll(d decoded) []byte {
	b := []byte{dumpVersion, d.kind.code}
	if d.kind.typ == 0 {
		return sealPayload(appendVersions(b, d.versions))
	}
	for _, e := range d.elements {
		b = appendElement(b, e.member, e.versions)
	}
	return sealPayload(append(b, 0))
}
