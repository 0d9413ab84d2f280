package peer

import (
	"fmt"
	"log/slog"
	"math"
	"time"
)

// Config configures a Server or a Client. The zero value of every field
// means its default (see DefaultConfig), so Config{Secret: s} is a complete
// configuration. NewServer and NewClient copy the Config; the caller's value
// is never modified.
type Config struct {
	// Secret is the cluster secret. Both ends of a connection must hold
	// the same one. The empty secret is a secret too: a peer with a secret
	// and one without refuse each other.
	Secret string

	// MaxFrame is the largest payload accepted or sent in either
	// direction. Default 544 MiB: a 512 MiB value plus overhead.
	MaxFrame int

	// ConnsPerPeer is the number of persistent connections a Client keeps
	// to each peer address; calls are spread over them. Default 2.
	ConnsPerPeer int

	// DialTimeout bounds the TCP dial and, separately, the handshake on
	// both ends. Default 1s.
	DialTimeout time.Duration

	// MaxInFlight is the number of requests a Server runs concurrently per
	// connection; when reached the server stops reading from that
	// connection until one finishes. Default 256.
	MaxInFlight int

	// Batch, when set, serves a Server's batchable requests (those whose
	// op Batch.Batchable accepts) several at a time, from one goroutine
	// per connection; see BatchHandler. A Client ignores it. Default nil:
	// every request runs the Server's Handler in a goroutine of its own.
	Batch BatchHandler

	// Logger receives warnings (refused secrets, protocol errors). Default
	// slog.Default().
	Logger *slog.Logger
}

// Defaults, one per Config field.
const (
	DefaultMaxFrame     = 544 << 20
	DefaultConnsPerPeer = 2
	DefaultDialTimeout  = time.Second
	DefaultMaxInFlight  = 256
)

// maxMaxFrame keeps MaxFrame+9 within the uint32 length prefix.
const maxMaxFrame = math.MaxUint32 - frameHeaderLen

// DefaultConfig returns a Config with every default filled in and the given
// cluster secret.
func DefaultConfig(secret string) Config {
	return Config{Secret: secret}.withDefaults()
}

// Validate reports the first invalid field, naming it, or nil. Zero values
// are valid (they mean the default); negative ones are not.
func (c Config) Validate() error {
	switch {
	case c.MaxFrame < 0 || c.MaxFrame > maxMaxFrame:
		return fmt.Errorf("peer: config: MaxFrame: must be between 0 (default) and %d, got %d", maxMaxFrame, c.MaxFrame)
	case c.ConnsPerPeer < 0:
		return fmt.Errorf("peer: config: ConnsPerPeer: must not be negative, got %d", c.ConnsPerPeer)
	case c.DialTimeout < 0:
		return fmt.Errorf("peer: config: DialTimeout: must not be negative, got %v", c.DialTimeout)
	case c.MaxInFlight < 0:
		return fmt.Errorf("peer: config: MaxInFlight: must not be negative, got %d", c.MaxInFlight)
	}
	return nil
}

// withDefaults returns a copy of c with zero fields replaced by defaults.
func (c Config) withDefaults() Config {
	if c.MaxFrame == 0 {
		c.MaxFrame = DefaultMaxFrame
	}
	if c.ConnsPerPeer == 0 {
		c.ConnsPerPeer = DefaultConnsPerPeer
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
