package store

import "testing"

func TestShardLayoutRoundTrip(t *testing.T) {
	s := NewMem()
	defer s.Close()
	if _, ok, err := ReadShardLayout(s); ok || err != nil {
		t.Fatalf("empty store: ok %v, %v", ok, err)
	}
	want := ShardLayout{Shards: 4, Index: 2, ID: 0xdeadbeef12345678}
	if err := WriteShardLayout(s, want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := ReadShardLayout(s)
	if !ok || err != nil || got != want {
		t.Fatalf("read back %+v, %v, %v; want %+v", got, ok, err, want)
	}
	for _, bad := range []string{"", "dynakv-shard v1 shards=4 index=4 layout=0000000000000001", "dynakv-shard v1 shards=4 index=1 layout=01", "x"} {
		if _, err := ParseShardLayout([]byte(bad)); err == nil {
			t.Errorf("ParseShardLayout(%q) accepted", bad)
		}
	}
}

func FuzzParseShardLayout(f *testing.F) {
	f.Add([]byte(ShardLayout{Shards: 4, Index: 1, ID: 7}.String()))
	f.Add([]byte("dynakv-shard v1 shards=-1 index=0 layout=0"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseShardLayout(b)
		if err != nil {
			return
		}
		if l.String() != string(b) {
			t.Fatalf("accepted %q, which encodes back as %q", b, l.String())
		}
	})
}
