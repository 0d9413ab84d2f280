package conf

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeFile writes content to name in a fresh temporary directory and
// returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustLoad(t *testing.T, args, environ []string) Config {
	t.Helper()
	c, err := Load(args, environ)
	if err != nil {
		t.Fatalf("Load(%q, %q): %v", args, environ, err)
	}
	return c
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}

// configTags returns the mapstructure tags of Config in field order.
func configTags() []string {
	t := reflect.TypeFor[Config]()
	var tags []string
	for i := range t.NumField() {
		tags = append(tags, t.Field(i).Tag.Get("mapstructure"))
	}
	return tags
}

func TestKeysMatchConfigFields(t *testing.T) {
	if got, want := Keys(), configTags(); !slices.Equal(got, want) {
		t.Fatalf("Keys() = %q,\nConfig tags = %q", got, want)
	}
	for _, k := range configTags() {
		if _, ok := Default().Get(k); !ok {
			t.Errorf("Get(%q) not ok", k)
		}
	}
}

func TestDefaults(t *testing.T) {
	want := map[string]string{
		"node_id":                    "",
		"listen":                     "127.0.0.1:6379",
		"gossip_listen":              "127.0.0.1:7946",
		"peer_listen":                "",
		"seeds":                      "",
		"data_dir":                   "./dynakv-data",
		"n":                          "3",
		"r":                          "2",
		"w":                          "2",
		"partitions":                 "1024",
		"weight":                     "1",
		"requirepass":                "",
		"cluster_secret":             "",
		"log_level":                  "info",
		"proto_max_bulk_len":         "536870912",
		"max_multibulk_len":          "1048576",
		"max_inline_len":             "65536",
		"client_query_buffer_limit":  "1073741824",
		"maxclients":                 "10000",
		"client_output_buffer_limit": "normal 256mb 64mb 60",
		"fsync":                      "everysec",
		"prune_threshold":            "10",
		"request_timeout":            "2s",
		"cache_size":                 "67108864",
		"anti_entropy_interval":      "10s",
		"tombstone_grace":            "1h0m0s",
		"protected_mode":             "yes",
		"tls_port":                   "0",
		"tls_cert_file":              "",
		"tls_key_file":               "",
		"tls_ca_cert_file":           "",
		"tls_auth_clients":           "yes",
		"repair_storage":             "no",
		"notify_keyspace_events":     "",
	}
	def := Default()
	if len(want) != len(Keys()) {
		t.Fatalf("test table has %d keys, Keys() has %d", len(want), len(Keys()))
	}
	for _, k := range Keys() {
		if got, _ := def.Get(k); got != want[k] {
			t.Errorf("Default %s = %q, want %q", k, got, want[k])
		}
	}
	if err := def.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}

	got := mustLoad(t, nil, nil)
	resolved := def.Resolve()
	if !reflect.DeepEqual(got, resolved) {
		t.Fatalf("Load(nil, nil) = %+v,\nwant %+v", got, resolved)
	}
	if got.NodeID != "" || got.PeerListen != "127.0.0.1:16379" {
		t.Fatalf("derived node_id %q peer_listen %q", got.NodeID, got.PeerListen)
	}
	if got.SlogLevel() != slog.LevelInfo {
		t.Fatalf("SlogLevel() = %v", got.SlogLevel())
	}
}

// samples holds a valid non-default value for every key, as text.
var samples = map[string]string{
	"node_id":                    "node-a",
	"listen":                     "10.0.0.1:7000",
	"gossip_listen":              "10.0.0.1:7001",
	"peer_listen":                "10.0.0.1:7002",
	"seeds":                      "10.0.0.2:7946,10.0.0.3:7946",
	"data_dir":                   "/var/lib/dynakv",
	"n":                          "5",
	"r":                          "3",
	"w":                          "4",
	"partitions":                 "64",
	"weight":                     "7",
	"requirepass":                "s3cret",
	"cluster_secret":             "0123456789abcdef",
	"log_level":                  "debug",
	"proto_max_bulk_len":         "1048576",
	"max_multibulk_len":          "1000",
	"max_inline_len":             "4096",
	"client_query_buffer_limit":  "2097152",
	"maxclients":                 "50",
	"client_output_buffer_limit": "normal 1gb 100mb 30",
	"fsync":                      "always",
	"prune_threshold":            "20",
	"request_timeout":            "1m30s",
	"cache_size":                 "1048576",
	"anti_entropy_interval":      "45s",
	"tombstone_grace":            "30m0s",
	"protected_mode":             "no",
	"tls_port":                   "6380",
	"tls_cert_file":              "/etc/dynakv/cert.pem",
	"tls_key_file":               "/etc/dynakv/key.pem",
	"tls_ca_cert_file":           "/etc/dynakv/ca.pem",
	"tls_auth_clients":           "optional",
	"repair_storage":             "yes",
	"notify_keyspace_events":     "KEA",
}

// TestEveryKeyFromEveryLayer sets every key at once through each source and
// reads it back with Get.
func TestEveryKeyFromEveryLayer(t *testing.T) {
	for _, k := range Keys() {
		if _, ok := samples[k]; !ok {
			t.Fatalf("no sample value for %q", k)
		}
	}
	var (
		args, environ []string
		yaml, toml    strings.Builder
	)
	for _, k := range Keys() {
		v := samples[k]
		args = append(args, "--"+strings.ReplaceAll(k, "_", "-")+"="+v)
		environ = append(environ, "DYNAKV_"+strings.ToUpper(k)+"="+v)
		yaml.WriteString(k + ": \"" + v + "\"\n")
		toml.WriteString(k + " = \"" + v + "\"\n")
	}
	yamlPath := writeFile(t, "dynakv.yaml", yaml.String())
	tomlPath := writeFile(t, "dynakv.toml", toml.String())
	for _, tc := range []struct {
		name          string
		args, environ []string
	}{
		{"flags", args, nil},
		{"env", nil, environ},
		{"yaml", []string{"--config", yamlPath}, nil},
		{"toml", []string{"--config=" + tomlPath}, nil},
		{"DYNAKV_CONFIG", nil, []string{"DYNAKV_CONFIG=" + yamlPath}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustLoad(t, tc.args, tc.environ)
			for _, k := range Keys() {
				if got, _ := c.value(k); got != samples[k] {
					t.Errorf("%s = %q, want %q", k, got, samples[k])
				}
			}
			if want := []string{"10.0.0.2:7946", "10.0.0.3:7946"}; !slices.Equal(c.Seeds, want) {
				t.Errorf("Seeds = %q, want %q", c.Seeds, want)
			}
			if c.RequestTimeout != 90*time.Second {
				t.Errorf("RequestTimeout = %v", c.RequestTimeout)
			}
		})
	}
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, "p.yaml", `
listen: 10.0.0.1:1000
seeds: [a:1, b:2]
request_timeout: 3s
n: 4
requirepass: file
log_level: warn
`)
	envAll := []string{
		"DYNAKV_LISTEN=10.0.0.2:2000",
		"DYNAKV_SEEDS=c:3",
		"DYNAKV_REQUEST_TIMEOUT=4s",
		"DYNAKV_N=5",
		"DYNAKV_REQUIREPASS=env",
	}
	flagsAll := []string{
		"--listen", "10.0.0.3:3000",
		"--seeds", "d:4,e:5",
		"--request-timeout", "5s",
		"--n=6",
		"--requirepass=flag",
	}
	cfg := []string{"--config", file}
	for _, tc := range []struct {
		name          string
		args, environ []string
		want          map[string]string
	}{
		{"defaults", nil, nil, map[string]string{
			"listen": "127.0.0.1:6379", "seeds": "", "request_timeout": "2s", "n": "3", "requirepass": "", "log_level": "info",
		}},
		{"file", cfg, nil, map[string]string{
			"listen": "10.0.0.1:1000", "seeds": "a:1,b:2", "request_timeout": "3s", "n": "4", "requirepass": "file", "log_level": "warn",
		}},
		{"env over file", cfg, envAll, map[string]string{
			"listen": "10.0.0.2:2000", "seeds": "c:3", "request_timeout": "4s", "n": "5", "requirepass": "env", "log_level": "warn",
		}},
		{"flag over env and file", append(slices.Clone(cfg), flagsAll...), envAll, map[string]string{
			"listen": "10.0.0.3:3000", "seeds": "d:4,e:5", "request_timeout": "5s", "n": "6", "requirepass": "flag", "log_level": "warn",
		}},
		{"flag over default", flagsAll, nil, map[string]string{
			"listen": "10.0.0.3:3000", "seeds": "d:4,e:5", "request_timeout": "5s", "n": "6", "requirepass": "flag", "log_level": "info",
		}},
		{"empty env is unset", cfg, []string{"DYNAKV_REQUIREPASS=", "DYNAKV_SEEDS="}, map[string]string{
			"requirepass": "file", "seeds": "a:1,b:2",
		}},
		{"explicit empty flag beats file", append(slices.Clone(cfg), "--requirepass=", "--seeds="), nil, map[string]string{
			"requirepass": "", "seeds": "",
		}},
		{"last duplicate env wins", nil, []string{"DYNAKV_N=4", "DYNAKV_N=5"}, map[string]string{"n": "5"}},
		{"other env ignored", nil, []string{"LISTEN=x", "dynakv_listen=y", "DYNAKV_LISTENX=z", "=weird", "noequals"}, map[string]string{
			"listen": "127.0.0.1:6379",
		}},
		{"seeds blanks trimmed", []string{"--seeds", " a:1 , ,b:2 "}, nil, map[string]string{"seeds": "a:1,b:2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustLoad(t, tc.args, tc.environ)
			for k, want := range tc.want {
				if got, _ := c.value(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestConfigFile(t *testing.T) {
	for _, tc := range []struct {
		name, file, content string
		want                map[string]string
	}{
		{"yaml list and mixed case", "a.yaml", `
Listen: 10.0.0.1:1000
NODE_ID: alpha
Seeds:
  - a:1
  - b:2
Request_Timeout: 250ms
n: 5
W: 3
`, map[string]string{"listen": "10.0.0.1:1000", "node_id": "alpha", "seeds": "a:1,b:2", "request_timeout": "250ms", "n": "5", "w": "3", "peer_listen": "10.0.0.1:11000"}},
		{"yml comma string", "a.yml", "seeds: a:1,b:2\nrequirepass: 123456\n",
			map[string]string{"seeds": "a:1,b:2", "requirepass": "123456"}},
		{"toml", "a.toml", `
LISTEN = "10.0.0.1:1000"
seeds = ["a:1", "b:2"]
request_timeout = "1s"
proto_max_bulk_len = 1024
partitions = 16
`, map[string]string{"listen": "10.0.0.1:1000", "seeds": "a:1,b:2", "request_timeout": "1s", "proto_max_bulk_len": "1024", "partitions": "16"}},
		{"toml comma string", "a.TOML", `seeds = "a:1, b:2"`, map[string]string{"seeds": "a:1,b:2"}},
		{"empty yaml", "e.yaml", "", map[string]string{"listen": "127.0.0.1:6379"}},
		{"null value keeps default", "n.yaml", "listen:\n", map[string]string{"listen": "127.0.0.1:6379"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.file, tc.content)
			c := mustLoad(t, []string{"--config", path}, nil)
			for k, want := range tc.want {
				if got, _ := c.value(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestConfigFileFlagBeatsEnv(t *testing.T) {
	a := writeFile(t, "a.yaml", "n: 4\n")
	b := writeFile(t, "b.yaml", "n: 5\n")
	c := mustLoad(t, []string{"--config", b}, []string{"DYNAKV_CONFIG=" + a})
	if c.N != 5 {
		t.Fatalf("N = %d, want 5 from --config", c.N)
	}
	c = mustLoad(t, []string{"--config="}, []string{"DYNAKV_CONFIG=" + a})
	if c.N != 3 {
		t.Fatalf("N = %d, want the default with --config=", c.N)
	}
}

func TestLoadErrors(t *testing.T) {
	unknown := writeFile(t, "u.yaml", "listen: 127.0.0.1:1\nlistn: 127.0.0.1:2\n")
	unknown2 := writeFile(t, "u2.yaml", "foo: 1\nbar: 2\n")
	nested := writeFile(t, "n.toml", "[listen]\nhost = \"x\"\n")
	dashed := writeFile(t, "d.yaml", "node-id: x\n")
	badYAML := writeFile(t, "b.yaml", "listen: [\n")
	badExt := writeFile(t, "c.json", "{}")
	bareTimeout := writeFile(t, "t.yaml", "request_timeout: 5\n")
	mapSeeds := writeFile(t, "s.yaml", "seeds: [{a: 1}]\n")
	floatN := writeFile(t, "f.yaml", "n: 2.5\n")
	for _, tc := range []struct {
		name          string
		args, environ []string
		want          []string
	}{
		{"unknown key", []string{"--config", unknown}, nil, []string{`conf: unknown setting "listn" in ` + unknown}},
		{"unknown keys", []string{"--config", unknown2}, nil, []string{`"bar", "foo"`, unknown2}},
		{"nested table", []string{"--config", nested}, nil, []string{`unknown setting "listen.host"`}},
		{"dashed key", []string{"--config", dashed}, nil, []string{`unknown setting "node-id"`}},
		{"bad yaml", []string{"--config", badYAML}, nil, []string{"conf: config file " + badYAML}},
		{"missing file", []string{"--config", "/nonexistent/x.yaml"}, nil, []string{"conf: config file /nonexistent/x.yaml"}},
		{"unsupported extension", []string{"--config", badExt}, nil, []string{"unsupported extension", ".json"}},
		{"missing file from env", nil, []string{"DYNAKV_CONFIG=/nonexistent/y.toml"}, []string{"/nonexistent/y.toml"}},
		{"bare number duration", []string{"--config", bareTimeout}, nil, []string{"conf: request_timeout:", "(from " + bareTimeout + ")"}},
		{"list of maps seeds", []string{"--config", mapSeeds}, nil, []string{"conf: seeds: must be a list of strings"}},
		{"float int", []string{"--config", floatN}, nil, []string{"conf: n: must be an integer"}},
		{"bad int env", nil, []string{"DYNAKV_N=three"}, []string{`conf: n: must be an integer, got "three" (from DYNAKV_N)`}},
		{"bad duration env", nil, []string{"DYNAKV_REQUEST_TIMEOUT=soon"}, []string{"conf: request_timeout:", "DYNAKV_REQUEST_TIMEOUT"}},
		{"int overflow env", nil, []string{"DYNAKV_MAXCLIENTS=99999999999999999999"}, []string{"conf: maxclients:"}},
		{"bad int flag", []string{"--n", "x"}, nil, []string{"conf: ", "--n"}},
		{"bad duration flag", []string{"--request-timeout", "5"}, nil, []string{"conf: ", "--request-timeout"}},
		{"unknown flag", []string{"--listn", "x"}, nil, []string{"conf: ", "listn"}},
		{"positional argument", []string{"extra"}, nil, []string{`conf: unexpected argument "extra"`}},
		{"invalid from env", nil, []string{"DYNAKV_W=4"}, []string{"conf: w: must be between 1 and n (3), got 4"}},
		{"invalid from flag", []string{"--partitions=1000"}, nil, []string{"conf: partitions:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(tc.args, tc.environ)
			wantErr(t, err, tc.want...)
			if !reflect.DeepEqual(c, Config{}) {
				t.Fatalf("Load returned %+v with an error", c)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		key    string
		mutate func(*Config)
		want   string // after "conf: key: "; empty means valid
	}{
		{"listen", func(c *Config) { c.Listen = "" }, "must be host:port"},
		{"listen", func(c *Config) { c.Listen = "localhost" }, "must be host:port"},
		{"listen", func(c *Config) { c.Listen = ":6379" }, "host must not be empty"},
		{"listen", func(c *Config) { c.Listen = "h:65536" }, "port must be"},
		{"listen", func(c *Config) { c.Listen = "h:redis" }, "port must be"},
		{"listen", func(c *Config) { c.Listen = "h:-1" }, "port must be"},
		{"listen", func(c *Config) { c.Listen = "[::1]:6379" }, ""},
		{"listen", func(c *Config) { c.Listen = "0.0.0.0:0" }, ""},
		{"gossip_listen", func(c *Config) { c.GossipListen = "nohost" }, "must be host:port"},
		{"gossip_listen", func(c *Config) { c.GossipListen = "h:99999" }, "port must be"},
		{"peer_listen", func(c *Config) { c.PeerListen = "x" }, "must be host:port"},
		{"peer_listen", func(c *Config) { c.Listen = "h:60000" }, "derived from the listen port"},
		{"peer_listen", func(c *Config) { c.Listen = "h:60000"; c.PeerListen = "h:1" }, ""},
		{"seeds", func(c *Config) { c.Seeds = []string{"a:1", "b"} }, `must be host:port, got "b"`},
		{"seeds", func(c *Config) { c.Seeds = []string{"a:0"} }, "port must be"},
		{"seeds", func(c *Config) { c.Seeds = []string{":1"} }, "host must not be empty"},
		{"node_id", func(c *Config) { c.NodeID = "a b" }, "whitespace"},
		{"node_id", func(c *Config) { c.NodeID = strings.Repeat("x", 256) }, "at most 255 bytes"},
		{"node_id", func(c *Config) { c.NodeID = "a\x00" }, "control"},
		{"node_id", func(c *Config) { c.NodeID = "a\tb" }, "whitespace"},
		{"node_id", func(c *Config) { c.NodeID = "\xff" }, "UTF-8"},
		{"node_id", func(c *Config) { c.NodeID = "ü-1" }, ""},
		{"data_dir", func(c *Config) { c.DataDir = "" }, "must not be empty"},
		{"notify_keyspace_events", func(c *Config) { c.NotifyKeyspaceEvents = "KEq" }, "invalid event class character"},
		{"notify_keyspace_events", func(c *Config) { c.NotifyKeyspaceEvents = "Ag$lshzxeKEtmdn" }, ""},
		{"n", func(c *Config) { c.N = 0 }, "must be at least 1, got 0"},
		{"r", func(c *Config) { c.R = 0 }, "must be between 1 and n (3), got 0"},
		{"r", func(c *Config) { c.R = 4 }, "must be between 1 and n (3), got 4"},
		{"w", func(c *Config) { c.W = 4 }, "must be between 1 and n (3), got 4"},
		{"w", func(c *Config) { c.W = -1 }, "must be between 1 and n (3), got -1"},
		{"w", func(c *Config) { c.N, c.R, c.W = 1, 1, 1 }, ""},
		{"partitions", func(c *Config) { c.Partitions = 0 }, "power of two"},
		{"partitions", func(c *Config) { c.Partitions = 1000 }, "power of two"},
		{"partitions", func(c *Config) { c.Partitions = 1 << 25 }, "power of two"},
		{"partitions", func(c *Config) { c.Partitions = 1 }, ""},
		{"partitions", func(c *Config) { c.Partitions = 1 << 24 }, ""},
		{"weight", func(c *Config) { c.Weight = 0 }, "must be between 1 and 1000"},
		{"weight", func(c *Config) { c.Weight = 1001 }, "must be between 1 and 1000"},
		{"weight", func(c *Config) { c.Weight = 1000 }, ""},
		{"log_level", func(c *Config) { c.LogLevel = "trace" }, `got "trace"`},
		{"log_level", func(c *Config) { c.LogLevel = "" }, "must be one of"},
		{"proto_max_bulk_len", func(c *Config) { c.ProtoMaxBulkLen = 0 }, "greater than 0"},
		{"max_multibulk_len", func(c *Config) { c.MaxMultibulkLen = -1 }, "greater than 0"},
		{"max_inline_len", func(c *Config) { c.MaxInlineLen = 0 }, "greater than 0"},
		{"client_query_buffer_limit", func(c *Config) { c.ClientQueryBufferLimit = 0 }, "greater than 0"},
		{"maxclients", func(c *Config) { c.MaxClients = 0 }, "greater than 0"},
		{"client_output_buffer_limit", func(c *Config) { c.ClientOutputBufferLimit = "normal 1gb 64mb" }, "groups of <class> <hard> <soft> <soft-seconds>"},
		{"client_output_buffer_limit", func(c *Config) { c.ClientOutputBufferLimit = "master 0 0 0" }, "invalid client class"},
		{"client_output_buffer_limit", func(c *Config) { c.ClientOutputBufferLimit = "normal 1tb 0 0" }, "error in hard, soft or soft-seconds"},
		{"fsync", func(c *Config) { c.Fsync = "sometimes" }, "must be one of always, everysec, no"},
		{"fsync", func(c *Config) { c.Fsync = "no" }, ""},
		{"prune_threshold", func(c *Config) { c.PruneThreshold = 0 }, "at least 1"},
		{"request_timeout", func(c *Config) { c.RequestTimeout = 0 }, "greater than 0"},
		{"request_timeout", func(c *Config) { c.RequestTimeout = -time.Second }, "greater than 0"},
	} {
		c := Default()
		tc.mutate(&c)
		err := c.Validate()
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: Validate() = %v, want nil", tc.key, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), "conf: "+tc.key+": ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want conf: %s: ...%s...", tc.key, err, tc.key, tc.want)
		}
	}
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		in                       Config
		wantNodeID, wantPeerAddr string
	}{
		// node_id is never derived: an empty one is the data directory's.
		{"defaults", Config{Listen: "127.0.0.1:6379"}, "", "127.0.0.1:16379"},
		{"port 0 stays 0", Config{Listen: "127.0.0.1:0"}, "", "127.0.0.1:0"},
		{"ipv6", Config{Listen: "[::1]:7000"}, "", "[::1]:17000"},
		{"explicit kept", Config{Listen: "h:1", NodeID: "n1", PeerListen: "h:2"}, "n1", "h:2"},
		{"beyond 65535 left to Validate", Config{Listen: "h:60000"}, "", "h:70000"},
		{"unparsable listen", Config{Listen: "nonsense"}, "", ""},
		{"empty listen", Config{}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in.Resolve()
			if got.NodeID != tc.wantNodeID || got.PeerListen != tc.wantPeerAddr {
				t.Fatalf("Resolve() node_id %q peer_listen %q, want %q %q", got.NodeID, got.PeerListen, tc.wantNodeID, tc.wantPeerAddr)
			}
			if again := got.Resolve(); !reflect.DeepEqual(again, got) {
				t.Fatalf("Resolve is not idempotent: %+v then %+v", got, again)
			}
		})
	}

	// Resolve returns a copy that shares nothing with the original.
	orig := Config{Listen: "h:1", Seeds: []string{"a:1"}}
	r := orig.Resolve()
	r.Seeds[0] = "changed"
	if orig.Seeds[0] != "a:1" || orig.NodeID != "" || orig.PeerListen != "" {
		t.Fatalf("Resolve modified its receiver: %+v", orig)
	}

	// Load derives from the final listen, whichever source set it.
	c := mustLoad(t, nil, []string{"DYNAKV_LISTEN=10.1.2.3:0"})
	if c.NodeID != "" || c.PeerListen != "10.1.2.3:0" {
		t.Fatalf("Load derived node_id %q peer_listen %q", c.NodeID, c.PeerListen)
	}
}

func TestGet(t *testing.T) {
	c := Default()
	c.Seeds = []string{"a:1", "b:2"}
	c.RequirePass = "pw"
	for _, tc := range []struct{ key, want string }{
		{"seeds", "a:1,b:2"},
		{"SEEDS", "a:1,b:2"},
		{"RequirePass", ""}, // a secret: see TestSecretsNeverShown
		{"request_timeout", "2s"},
		{"proto_max_bulk_len", "536870912"},
	} {
		if got, ok := c.Get(tc.key); !ok || got != tc.want {
			t.Errorf("Get(%q) = %q, %v; want %q", tc.key, got, ok, tc.want)
		}
	}
	for _, key := range []string{"", "listn", "NodeID", "node-id"} {
		if _, ok := c.Get(key); ok {
			t.Errorf("Get(%q) ok for an unknown key", key)
		}
	}
	keys := Keys()
	keys[0] = "mutated"
	if Keys()[0] != "node_id" {
		t.Fatal("Keys returned shared state")
	}
}

func TestSlogLevel(t *testing.T) {
	for level, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError, "": slog.LevelInfo,
	} {
		if got := (Config{LogLevel: level}).SlogLevel(); got != want {
			t.Errorf("SlogLevel(%q) = %v, want %v", level, got, want)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"--listen", "h:1", "--help"}} {
		if _, err := Load(args, nil); !errors.Is(err, ErrHelp) {
			t.Errorf("Load(%q) = %v, want ErrHelp", args, err)
		}
	}
}

// TestUsageMentionsEverySetting walks Config's mapstructure tags, so a new
// field cannot be added without showing up in the help.
func TestUsageMentionsEverySetting(t *testing.T) {
	var buf bytes.Buffer
	Usage(&buf)
	usage := buf.String()
	if !strings.HasPrefix(usage, "Usage: dynakv [flags]\n") {
		t.Fatalf("usage starts with %q", strings.SplitN(usage, "\n", 2)[0])
	}
	for _, want := range []string{"--config FILE", "DYNAKV_CONFIG", "--help"} {
		if !strings.Contains(usage, want) {
			t.Errorf("usage does not mention %q", want)
		}
	}
	def := Default()
	for _, key := range configTags() {
		flag := "--" + strings.ReplaceAll(key, "_", "-")
		env := "DYNAKV_" + strings.ToUpper(key)
		var line string
		for l := range strings.Lines(usage) {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == flag && f[1] == env {
				line = l
			}
		}
		if line == "" {
			t.Errorf("usage has no line with %s and %s", flag, env)
			continue
		}
		if d, _ := def.Get(key); d != "" && !strings.Contains(line, " "+d+" ") {
			t.Errorf("usage line for %s lacks the default %q: %q", key, d, line)
		}
	}
	// Columns are aligned: every setting's env column starts at the same
	// offset.
	col := -1
	for l := range strings.Lines(usage) {
		if i := strings.Index(l, "DYNAKV_"); i >= 0 {
			if col >= 0 && i != col {
				t.Fatalf("misaligned usage line %q", l)
			}
			col = i
		}
	}
}

// CONFIG GET shows every setting through Get: a secret's value never
// appears, whatever the key's case, and Secret names the secrets.
func TestSecretsNeverShown(t *testing.T) {
	if !Secret("requirepass") || !Secret("CLUSTER_SECRET") || Secret("listen") || Secret("nosuch") {
		t.Fatal("Secret: requirepass and cluster_secret are secrets, listen is not")
	}
	c := Default()
	c.RequirePass = "pw-0123456789"
	c.ClusterSecret = "cs-0123456789"
	v := reflect.ValueOf(&c).Elem()
	n := 0
	for _, s := range settings {
		if !s.secret {
			continue
		}
		n++
		f := v.Field(fieldIndex[s.key])
		if f.Kind() != reflect.String {
			t.Fatalf("secret %s is a %s; Get hides strings", s.key, f.Kind())
		}
		if f.String() == "" {
			f.SetString("secret-of-" + s.key)
		}
	}
	if n < 2 {
		t.Fatalf("%d secret settings, want at least requirepass and cluster_secret", n)
	}
	for _, s := range settings {
		raw, _ := c.value(s.key)
		for _, key := range []string{s.key, strings.ToUpper(s.key)} {
			got, ok := c.Get(key)
			if !ok {
				t.Fatalf("Get(%q) not ok", key)
			}
			if s.secret && got != "" {
				t.Errorf("Get(%q) = %q, want it hidden", key, got)
			}
			if !s.secret && got != raw {
				t.Errorf("Get(%q) = %q, want %q", key, got, raw)
			}
		}
		if s.secret {
			for _, k := range Keys() {
				if got, _ := c.Get(k); raw != "" && strings.Contains(got, raw) {
					t.Errorf("Get(%q) = %q shows the value of %s", k, got, s.key)
				}
			}
		}
	}
}
