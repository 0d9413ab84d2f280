// Package node runs one dynakv node: storage, membership, internode
// transport, start and graceful stop.
package node
