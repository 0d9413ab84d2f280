package resp

// Lists in transactions. A transaction on one list runs its commands in
// turn at EXEC (execInTurn in multi.go: a list is a head and items, each a
// key of its own, so the commands cannot be one versioned update). Blocked
// clients are served only once EXEC is done, so they see the
// transaction's end state (a list it filled and emptied again wakes
// nobody), and a blocking pop inside it does not block: it answers at
// once, as in Redis.

// listTx collects the lists a transaction's commands pushed to; their
// blocked clients are served after EXEC.
type listTx struct {
	written [][]byte
}

// serve hands the lists the transaction pushed to to their blocked
// clients.
func (lt *listTx) serve(s *Server) {
	for _, k := range lt.written {
		s.listWritten(k)
	}
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
