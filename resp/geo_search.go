package resp

import (
	"bytes"
	"encoding/binary"

	"github.com/dynakv/dynakv/geo"
	"github.com/dynakv/dynakv/replication"
)

// GEORADIUS, GEORADIUSBYMEMBER (and their _RO forms), GEOSEARCH and
// GEOSEARCHSTORE: one handler, as Redis's georadiusGeneric. The source's
// type is checked first (WRONGTYPE comes before every argument error),
// then parseGeoSearch parses, looking the FROMMEMBER / BYMEMBER member up
// where it meets it, and geo.Search reads the cells' score ranges from the
// sorted set's score index.

// geoSearchCommand implements the search command of the given kind.
func geoSearchCommand(kind geoSearchKind) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		src := 1
		if kind == geoSearchStore {
			src = 2
		}
		_, exists, err := c.readCollection(args[src], typeZSet)
		if err != nil {
			c.fail(err)
			return
		}
		var locate geoLocate
		var lookupErr error
		if exists {
			locate = func(member []byte) (float64, float64, string) {
				s, ok, err := c.memberScore(args[src], member)
				switch {
				case err != nil:
					lookupErr = err
					return 0, 0, "lookup failed" // replaced by lookupErr below
				case !ok:
					return 0, 0, errGeoNoMember
				}
				lon, lat := geo.Decode(s)
				return lon, lat, ""
			}
		}
		a, msg := parseGeoSearch(kind, args, locate)
		switch {
		case lookupErr != nil:
			c.fail(lookupErr)
			return
		case msg != "":
			c.replyErr(msg)
			return
		}
		var pts []geo.Point
		if !a.missing {
			if pts, err = geo.Search(&a.query, c.geoRangeReader(a.key)); err != nil {
				c.fail(err)
				return
			}
		}
		if a.store == nil {
			replyGeoSearch(&c.out, pts, a)
			return
		}
		// A store replaces the destination (deleting it when nothing
		// matched, or when the source is missing), and replies the count.
		n, err := c.storeZSet(a.store, geoStoreEntries(pts, a.storeDist))
		if c.updateOK(err) {
			c.out.Int(n)
		}
	}
}

// geoRangeReader is geo.Search's RangeReader over the sorted set key: a
// walk of its score index over [min, max), in score order and, for equal
// scores, member order, as Redis reads its skiplist.
func (c *Conn) geoRangeReader(key []byte) geo.RangeReader {
	return func(min, max float64, fn func([]byte, float64) bool) error {
		start := binary.BigEndian.AppendUint64(nil, replication.SortableScore(min))
		end := binary.BigEndian.AppendUint64(nil, replication.SortableScore(max))
		return c.walkIndex(key, start, end, false, 0, replication.MaxKeysBatch, func(m scoredMember) bool {
			// The search keeps the member; the walk's buffer is not ours.
			return fn(bytes.Clone(m.member), m.score)
		})
	}
}
