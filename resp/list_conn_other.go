//go:build !unix

package resp

import "net"

// connClosed cannot peek at a socket here: a blocked client whose peer
// has gone is noticed when its wait ends.
func connClosed(net.Conn) bool { return false }
