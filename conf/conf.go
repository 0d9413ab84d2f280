// Package conf owns dynakv's configuration: the typed Config, its defaults,
// validation and loading from file, environment and flags.
package conf

import (
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Config is the complete configuration of one dynakv node. Each field's
// mapstructure tag is its setting key: the name used in config files, in
// CONFIG GET (see Get), and, upper-cased with a DYNAKV_ prefix, in the
// environment. The flag is the key with '-' for '_'.
type Config struct {
	NodeID                  string        `mapstructure:"node_id"`
	Listen                  string        `mapstructure:"listen"`
	GossipListen            string        `mapstructure:"gossip_listen"`
	PeerListen              string        `mapstructure:"peer_listen"`
	Seeds                   []string      `mapstructure:"seeds"`
	DataDir                 string        `mapstructure:"data_dir"`
	N                       int           `mapstructure:"n"`
	R                       int           `mapstructure:"r"`
	W                       int           `mapstructure:"w"`
	Partitions              int           `mapstructure:"partitions"`
	Weight                  int           `mapstructure:"weight"`
	RequirePass             string        `mapstructure:"requirepass"`
	ClusterSecret           string        `mapstructure:"cluster_secret"`
	LogLevel                string        `mapstructure:"log_level"`
	ProtoMaxBulkLen         int64         `mapstructure:"proto_max_bulk_len"`
	MaxMultibulkLen         int           `mapstructure:"max_multibulk_len"`
	MaxInlineLen            int           `mapstructure:"max_inline_len"`
	ClientQueryBufferLimit  int64         `mapstructure:"client_query_buffer_limit"`
	MaxClients              int           `mapstructure:"maxclients"`
	ClientOutputBufferLimit string        `mapstructure:"client_output_buffer_limit"`
	Fsync                   string        `mapstructure:"fsync"`
	PruneThreshold          int           `mapstructure:"prune_threshold"`
	RequestTimeout          time.Duration `mapstructure:"request_timeout"`
	CacheSize               int64         `mapstructure:"cache_size"`
	AntiEntropyInterval     time.Duration `mapstructure:"anti_entropy_interval"`
	TombstoneGrace          time.Duration `mapstructure:"tombstone_grace"`
	ProtectedMode           string        `mapstructure:"protected_mode"`
	TLSPort                 int           `mapstructure:"tls_port"`
	TLSCertFile             string        `mapstructure:"tls_cert_file"`
	TLSKeyFile              string        `mapstructure:"tls_key_file"`
	TLSCACertFile           string        `mapstructure:"tls_ca_cert_file"`
	TLSAuthClients          string        `mapstructure:"tls_auth_clients"`
	// RepairStorage (no|yes): yes accepts the loss of damaged storage (a lost
	// shard, a damaged journal or table) on a node with no replica to heal
	// from.
	RepairStorage string `mapstructure:"repair_storage"`
	// NotifyKeyspaceEvents is Redis's notify-keyspace-events flag string
	// at start ("" off); CONFIG SET changes it at runtime.
	NotifyKeyspaceEvents string `mapstructure:"notify_keyspace_events"`
}

const (
	maxPartitions  = 1 << 24 // largest partitions setting (Q)
	maxWeight      = 1000    // largest weight setting
	peerPortOffset = 10000   // added to the client port to derive peer_listen
	maxNodeIDLen   = 255     // longest node_id (an empty one is generated)
)

// setting describes one key: its meaning for Usage and, for the settings
// whose default is derived in Resolve, how Usage shows that default.
type setting struct {
	key     string
	meaning string
	derived string // shown by Usage instead of an empty default
	// secret: Get (and so CONFIG GET) shows the value as empty. Every
	// password, key or passphrase setting is one.
	secret bool
}

// settings lists every key in table order. It must name exactly the
// mapstructure tags of Config (the tests check this).
var settings = []setting{
	{"node_id", "stable identity of this node across restarts", "(generated, kept in data_dir)", false},
	{"listen", "client (RESP) address", "", false},
	{"gossip_listen", "memberlist gossip address (UDP and TCP)", "", false},
	{"peer_listen", "internode replication address", "(listen port + 10000)", false},
	{"seeds", "comma-separated gossip addresses of seed nodes", "(none)", false},
	{"data_dir", "directory of the goleveldb data and node state", "", false},
	{"n", "replicas of each key", "", false},
	{"r", "read quorum", "", false},
	{"w", "write quorum", "", false},
	{"partitions", "partitions Q, a power of two, fixed when the cluster is created", "", false},
	{"weight", "capacity of this node, 1-1000", "", false},
	{"requirepass", "password for AUTH", "(none)", true},
	{"cluster_secret", "encrypts gossip and authenticates internode traffic", "(none)", true},
	{"log_level", "log level: debug, info, warn or error", "", false},
	{"proto_max_bulk_len", "largest bulk argument a client may send (bytes)", "", false},
	{"max_multibulk_len", "most arguments in one command", "", false},
	{"max_inline_len", "longest inline command (bytes)", "", false},
	{"client_query_buffer_limit", "most bytes one command may total", "", false},
	{"maxclients", "most simultaneous client connections", "", false},
	{"client_output_buffer_limit", "Redis's client-output-buffer-limit for normal clients: \"normal <hard> <soft> <soft-seconds>\"; 0 disables a limit", "", false},
	{"fsync", "when the journal is synced: always (each write), everysec or no", "", false},
	{"prune_threshold", "causal clock entries kept per key before the oldest are pruned", "", false},
	{"request_timeout", "deadline of one coordinated request (Go duration)", "", false},
	{"cache_size", "memory for decoded hot keys in front of goleveldb (bytes); 0 disables", "", false},
	{"anti_entropy_interval", "time between rounds of Merkle-tree exchanges with the other replicas (Go duration); 0 disables", "", false},
	{"tombstone_grace", "age after which a delete's tombstone is collected once every replica has it, and a hint is dropped (Go duration); 0 keeps them forever", "", false},
	{"protected_mode", "yes: refuse to start without cluster_secret when requirepass is set or an address is not loopback; no: accept the risk", "", false},
	{"tls_port", "TLS client (RESP) port on the listen host; 0 disables", "0 (off)", false},
	{"tls_cert_file", "certificate (PEM) of the TLS client port", "(none)", false},
	{"tls_key_file", "private key (PEM) of tls_cert_file", "(none)", false},
	{"tls_ca_cert_file", "CA certificates (PEM) that client certificates must chain to", "(none)", false},
	{"tls_auth_clients", "client certificates on the TLS port: yes (required), optional (checked if sent) or no", "", false},
	{"repair_storage", "yes: start on damaged storage (a lost store shard, a damaged journal or table) with no replica to heal from, accepting the loss; no: refuse (no, yes)", "", false},
	{"notify_keyspace_events", "keyspace notifications: Redis's notify-keyspace-events flags (K, E, g, $, l, s, h, z, x, e, t, m, d, n, A); empty: off", "(off)", false},
}

// secrets holds the keys of the secret settings.
var secrets = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range settings {
		if s.secret {
			m[s.key] = true
		}
	}
	return m
}()

// Secret reports whether key (case-insensitive) names a secret setting,
// whose value Get never shows.
func Secret(key string) bool { return secrets[strings.ToLower(key)] }

// fieldIndex maps each key to the index of its Config field.
var fieldIndex = func() map[string]int {
	t := reflect.TypeFor[Config]()
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		m[t.Field(i).Tag.Get("mapstructure")] = i
	}
	return m
}()

// Default returns the built-in defaults. node_id is left empty (the node
// then uses the id kept in its data directory, generated on its first
// start: see node.Open) and so is the derived peer_listen, which Resolve
// fills.
func Default() Config {
	return Config{
		Listen:                  "127.0.0.1:6379",
		GossipListen:            "127.0.0.1:7946",
		DataDir:                 "./dynakv-data",
		N:                       3,
		R:                       2,
		W:                       2,
		Partitions:              1024,
		Weight:                  1,
		LogLevel:                "info",
		ProtoMaxBulkLen:         512 << 20,
		MaxMultibulkLen:         1 << 20,
		MaxInlineLen:            64 << 10,
		ClientQueryBufferLimit:  1 << 30,
		MaxClients:              10000,
		ClientOutputBufferLimit: "normal 256mb 64mb 60",
		Fsync:                   "everysec",
		PruneThreshold:          10,
		RequestTimeout:          2 * time.Second,
		CacheSize:               64 << 20,
		AntiEntropyInterval:     10 * time.Second,
		TombstoneGrace:          time.Hour,
		ProtectedMode:           "yes",
		TLSAuthClients:          "yes",
		RepairStorage:           "no",
	}
}

// Keys returns every setting key in table order. The caller may modify the
// returned slice.
func Keys() []string {
	keys := make([]string, len(settings))
	for i, s := range settings {
		keys[i] = s.key
	}
	return keys
}

// Resolve returns a copy of c with the derived defaults filled in: an empty
// PeerListen becomes Listen's host with
// the client port plus 10000 (port 0 stays 0, i.e. any free port). If Listen
// is not host:port, PeerListen stays empty and Validate reports listen.
// Resolve is idempotent.
func (c Config) Resolve() Config {
	c.Seeds = append([]string(nil), c.Seeds...)
	if len(c.Seeds) == 0 {
		c.Seeds = nil
	}
	if c.PeerListen == "" {
		if host, port, err := net.SplitHostPort(c.Listen); err == nil {
			if p, err := strconv.ParseUint(port, 10, 16); err == nil {
				if p != 0 {
					p += peerPortOffset
				}
				c.PeerListen = net.JoinHostPort(host, strconv.FormatUint(p, 10))
			}
		}
	}
	return c
}

// Validate reports the first problem of c.Resolve(), or nil. The error names
// the offending key, as in `conf: w: must be between 1 and n (3), got 4`.
func (c Config) Validate() error {
	derived := c.PeerListen == ""
	r := c.Resolve()

	if err := checkAddr("listen", r.Listen, 0); err != nil {
		return err
	}
	if err := checkAddr("gossip_listen", r.GossipListen, 0); err != nil {
		return err
	}
	if err := checkAddr("peer_listen", r.PeerListen, 0); err != nil {
		if derived {
			return fmt.Errorf("%w (derived from the listen port + %d; set peer_listen)", err, peerPortOffset)
		}
		return err
	}
	for _, s := range r.Seeds {
		if err := checkAddr("seeds", s, 1); err != nil {
			return err
		}
	}
	switch {
	case len(r.NodeID) > maxNodeIDLen:
		return problem("node_id", "must be at most %d bytes, got %d", maxNodeIDLen, len(r.NodeID))
	case !utf8.ValidString(r.NodeID):
		return problem("node_id", "must be valid UTF-8, got %q", r.NodeID)
	case strings.IndexFunc(r.NodeID, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsControl(c) }) >= 0:
		return problem("node_id", "must not contain whitespace or control characters, got %q", r.NodeID)
	}
	if r.DataDir == "" {
		return problem("data_dir", "must not be empty")
	}
	if r.N < 1 {
		return problem("n", "must be at least 1, got %d", r.N)
	}
	if r.R < 1 || r.R > r.N {
		return problem("r", "must be between 1 and n (%d), got %d", r.N, r.R)
	}
	if r.W < 1 || r.W > r.N {
		return problem("w", "must be between 1 and n (%d), got %d", r.N, r.W)
	}
	if p := r.Partitions; p < 1 || p > maxPartitions || p&(p-1) != 0 {
		return problem("partitions", "must be a power of two between 1 and %d, got %d", maxPartitions, p)
	}
	if r.Weight < 1 || r.Weight > maxWeight {
		return problem("weight", "must be between 1 and %d, got %d", maxWeight, r.Weight)
	}
	switch r.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return problem("log_level", "must be one of debug, info, warn, error, got %q", r.LogLevel)
	}
	for _, l := range []struct {
		key string
		v   int64
	}{
		{"proto_max_bulk_len", r.ProtoMaxBulkLen},
		{"max_multibulk_len", int64(r.MaxMultibulkLen)},
		{"max_inline_len", int64(r.MaxInlineLen)},
		{"client_query_buffer_limit", r.ClientQueryBufferLimit},
		{"maxclients", int64(r.MaxClients)},
	} {
		if l.v <= 0 {
			return problem(l.key, "must be greater than 0, got %d", l.v)
		}
	}
	if _, err := ParseOutputBufferLimit(r.ClientOutputBufferLimit); err != nil {
		return problem("client_output_buffer_limit", "%v", err)
	}
	switch r.Fsync {
	case "always", "everysec", "no":
	default:
		return problem("fsync", "must be one of always, everysec, no, got %q", r.Fsync)
	}
	switch r.RepairStorage {
	case "no", "yes":
	default:
		return problem("repair_storage", "must be no or yes, got %q", r.RepairStorage)
	}
	if r.PruneThreshold < 1 {
		return problem("prune_threshold", "must be at least 1, got %d", r.PruneThreshold)
	}
	if r.RequestTimeout <= 0 {
		return problem("request_timeout", "must be greater than 0, got %s", r.RequestTimeout)
	}
	if r.CacheSize < 0 {
		return problem("cache_size", "must be 0 (no cache) or more, got %d", r.CacheSize)
	}
	if r.AntiEntropyInterval < 0 {
		return problem("anti_entropy_interval", "must be 0 (disabled) or more, got %s", r.AntiEntropyInterval)
	}
	if strings.Trim(r.NotifyKeyspaceEvents, notifyLetters) != "" {
		return problem("notify_keyspace_events", "invalid event class character in %q: use letters of %q, as Redis's notify-keyspace-events", r.NotifyKeyspaceEvents, notifyLetters)
	}
	if r.TombstoneGrace < 0 {
		return problem("tombstone_grace", "must be 0 (keep forever) or more, got %s", r.TombstoneGrace)
	}
	return r.validateSecurity()
}

// notifyLetters are the flag letters of notify-keyspace-events (resp
// parses them; conf only checks that no other letter is there).
const notifyLetters = "Ag$lshzxeKEtmdn"

// problem returns the error `conf: key: <formatted problem>`.
func problem(key, format string, args ...any) error {
	return fmt.Errorf("conf: %s: %s", key, fmt.Sprintf(format, args...))
}

// checkAddr checks that addr is host:port with a non-empty host and a
// numeric port between minPort and 65535.
func checkAddr(key, addr string, minPort uint64) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return problem(key, "must be host:port, got %q", addr)
	}
	if host == "" {
		return problem(key, "host must not be empty (use 0.0.0.0 for all interfaces), got %q", addr)
	}
	p, err := strconv.ParseUint(port, 10, 64)
	if err != nil || p < minPort || p > 65535 {
		return problem(key, "port must be a number between %d and 65535, got %q", minPort, addr)
	}
	return nil
}

// SlogLevel returns LogLevel as a slog.Level; an unknown level is
// slog.LevelInfo.
func (c Config) SlogLevel() slog.Level {
	switch strings.ToLower(c.LogLevel) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// Get returns the string form of the setting key (case-insensitive) as
// CONFIG GET shows it: numbers in decimal, seeds comma-separated, durations
// like "2s", and a secret setting (see Secret) as "" whatever its value.
// ok is false for an unknown key.
func (c Config) Get(key string) (value string, ok bool) {
	if Secret(key) {
		_, ok := fieldIndex[strings.ToLower(key)]
		return "", ok
	}
	return c.value(key)
}

// value is Get without hiding secrets.
func (c Config) value(key string) (value string, ok bool) {
	i, ok := fieldIndex[strings.ToLower(key)]
	if !ok {
		return "", false
	}
	switch v := reflect.ValueOf(c).Field(i).Interface().(type) {
	case string:
		return v, true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case time.Duration:
		return v.String(), true
	case []string:
		return strings.Join(v, ","), true
	default:
		panic(fmt.Sprintf("conf: setting %q has unsupported type %T", key, v))
	}
}
