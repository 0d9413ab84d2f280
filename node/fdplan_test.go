package node

import "testing"

func TestPlanFiles(t *testing.T) {
	const fixed = reservedFiles + peerFiles + storeShards*storeFixedFiles // 128
	want := uint64(10000 + fixed + storeShards*defaultTableFiles)
	for _, tc := range []struct {
		maxClients int
		limit      uint64
		clients    int
		tables     int
	}{
		{10000, ^uint64(0), 10000, defaultTableFiles},
		{10000, want, 10000, defaultTableFiles},
		// One short: the table caches give up what clients need first...
		{10000, want - 1, 10000 - 1, defaultTableFiles},
		// ... down to a quarter of what is left.
		{10000, 1024, 1024 - fixed - storeShards*56, 56},
		{10000, 256, 256 - fixed - storeShards*minTableFiles, minTableFiles},
		{50, 256, 50, minTableFiles},
		// Too few files for storage and one client.
		{10000, fixed + storeShards*minTableFiles, 0, minTableFiles},
		{10000, 10, -storeShards * minTableFiles, minTableFiles},
	} {
		p := planFiles(tc.maxClients, tc.limit)
		if p.maxClients != tc.clients || p.tableFiles != tc.tables {
			t.Errorf("planFiles(%d, %d) = %d clients, %d table files; want %d, %d", tc.maxClients, tc.limit, p.maxClients, p.tableFiles, tc.clients, tc.tables)
		}
		used := uint64(fixed + storeShards*p.tableFiles + max(p.maxClients, 0))
		if p.maxClients > 0 && used > tc.limit {
			t.Errorf("planFiles(%d, %d) uses %d files", tc.maxClients, tc.limit, used)
		}
	}
}
