package resp

import (
	"time"
)

// Lists in transactions. A transaction is one versioned update of one key
// (multi.go), and a list is many keys (its head and its items), so a
// transaction that holds a list command runs differently: at EXEC, after
// the WATCH comparisons, its commands run one after another, each exactly
// as it would alone, on any keys. It is not atomic (a client of another
// connection may see the state between two of its commands), but blocked
// clients are served only once EXEC is done, so they see the transaction's
// end state (a list it filled and emptied again wakes nobody), and a
// blocking pop inside it does not block: it answers at once, as in Redis.

// listTx collects the lists a transaction's commands pushed to; their
// blocked clients are served after EXEC.
type listTx struct {
	written [][]byte
}

// listWritten hands list key to the clients blocked on it, or, inside a
// transaction, once the transaction is done.
func (c *Conn) listWritten(key []byte) {
	if c.ltx != nil {
		if !containsKey(c.ltx.written, key) {
			c.ltx.written = append(c.ltx.written, key)
		}
		return
	}
	c.srv.listWritten(key)
}

// listTransaction reports whether a queued transaction holds a list
// command.
func listTransaction(queue []queued) bool {
	for _, q := range queue {
		if q.cmd.group == "list" {
			return true
		}
	}
	return false
}

// execInOrder runs EXEC for a transaction with list commands: every
// watched key is compared first, then the commands run in order.
func (c *Conn) execInOrder(queue []queued, watched []watchedKey) {
	for i := range watched {
		o, err := c.getAny(watched[i].key)
		if err != nil {
			c.fail(err)
			return
		}
		if watched[i].changed(o, c.nowMs()) {
			c.out.NullArray()
			return
		}
	}
	ltx := &listTx{}
	inner := &Conn{client: c.client, cmdTime: c.cmdTime, ltx: ltx}
	inner.out.proto = c.out.proto
	begin := time.UnixMilli(c.cmdTime)
	for _, q := range queue {
		c.srv.call(inner, q.cmd, q.args, begin)
	}
	c.out.Array(len(queue))
	c.out.b = append(c.out.b, inner.out.b...)
	for _, k := range ltx.written {
		c.srv.listWritten(k)
	}
}
