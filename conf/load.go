package conf

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// ErrHelp is returned by Load when --help or -h was given; the caller prints
// Usage and exits with status 0.
var ErrHelp = errors.New("conf: help requested")

const (
	envPrefix     = "DYNAKV_"
	configFlag    = "config"
	configEnvName = envPrefix + "CONFIG"
)

// flagName returns the flag of a key, without the leading "--".
func flagName(key string) string { return strings.ReplaceAll(key, "_", "-") }

// envName returns the environment variable of a key.
func envName(key string) string { return envPrefix + strings.ToUpper(key) }

// Load builds the configuration from, in increasing precedence, the
// defaults, the config file (--config FILE, else $DYNAKV_CONFIG; YAML for
// .yaml and .yml, TOML for .toml), the environment variables DYNAKV_<KEY>
// and the flags. args excludes the program name; environ is in the form of
// os.Environ (the last of duplicate entries wins, and an empty value counts
// as unset). Keys in the file are case-insensitive, and a key that is not a
// setting is an error naming it. seeds is a comma-separated list in flags,
// environment and files, and may also be a list in a file. The returned
// Config is resolved (see Resolve) and valid (see Validate). Load returns
// ErrHelp if args ask for help.
func Load(args []string, environ []string) (Config, error) {
	def := Default()
	fs := pflag.NewFlagSet("dynakv", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	configPath := fs.String(configFlag, "", "config file (YAML or TOML)")
	defs := reflect.ValueOf(def)
	for _, s := range settings {
		name := flagName(s.key)
		switch d := defs.Field(fieldIndex[s.key]).Interface().(type) {
		case string:
			fs.String(name, d, s.meaning)
		case int:
			fs.Int(name, d, s.meaning)
		case int64:
			fs.Int64(name, d, s.meaning)
		case time.Duration:
			fs.Duration(name, d, s.meaning)
		case []string:
			fs.String(name, strings.Join(d, ","), s.meaning)
		default:
			panic(fmt.Sprintf("conf: setting %q has unsupported type %T", s.key, d))
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return Config{}, ErrHelp
		}
		return Config{}, fmt.Errorf("conf: %w", err)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("conf: unexpected argument %q (settings are given as flags, see --help)", fs.Arg(0))
	}
	env := parseEnviron(environ)

	// Viper's own environment layer reads the process environment, which
	// would defeat the injected environ. So the environment variables are
	// merged over the file into viper's config layer: that keeps the order
	// defaults < file < environment, and the bound flags beat both.
	v := viper.New()
	for _, s := range settings {
		v.SetDefault(s.key, defs.Field(fieldIndex[s.key]).Interface())
		if err := v.BindPFlag(s.key, fs.Lookup(flagName(s.key))); err != nil {
			return Config{}, fmt.Errorf("conf: %w", err)
		}
	}
	layer := map[string]any{}
	source := map[string]string{} // key -> where its value came from
	path := *configPath
	if !fs.Changed(configFlag) {
		path = env[configEnvName]
	}
	if path != "" {
		file, err := readFile(path)
		if err != nil {
			return Config{}, err
		}
		for k, val := range file {
			layer[k] = val
			source[k] = path
		}
	}
	for _, s := range settings {
		if val := env[envName(s.key)]; val != "" {
			layer[s.key] = val
			source[s.key] = envName(s.key)
		}
		if fs.Changed(flagName(s.key)) {
			source[s.key] = "--" + flagName(s.key)
		}
	}
	if err := v.MergeConfigMap(layer); err != nil {
		return Config{}, fmt.Errorf("conf: %w", err)
	}

	var c Config
	cv := reflect.ValueOf(&c).Elem()
	for _, s := range settings {
		if err := decode(cv.Field(fieldIndex[s.key]), v.Get(s.key)); err != nil {
			if src := source[s.key]; src != "" {
				return Config{}, fmt.Errorf("conf: %s: %v (from %s)", s.key, err, src)
			}
			return Config{}, fmt.Errorf("conf: %s: %v", s.key, err)
		}
	}
	c = c.Resolve()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// parseEnviron turns KEY=VALUE entries into a map; later entries win.
func parseEnviron(environ []string) map[string]string {
	m := make(map[string]string)
	for _, kv := range environ {
		if i := strings.IndexByte(kv, '='); i > 0 {
			m[kv[:i]] = kv[i+1:]
		}
	}
	return m
}

// readFile reads a YAML or TOML config file and returns its settings by
// lower-cased key. A key that is not a setting is an error.
func readFile(path string) (map[string]any, error) {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	switch ext {
	case "yaml", "yml", "toml":
	default:
		return nil, fmt.Errorf("conf: config file %s: unsupported extension %q (want .yaml, .yml or .toml)", path, filepath.Ext(path))
	}
	fv := viper.New()
	fv.SetConfigFile(path)
	fv.SetConfigType(ext)
	if err := fv.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("conf: config file %s: %w", path, err)
	}
	keys := fv.AllKeys() // lower-cased; nested tables show as "a.b"
	slices.Sort(keys)
	var unknown []string
	for _, k := range keys {
		if _, ok := fieldIndex[k]; !ok {
			unknown = append(unknown, strconv.Quote(k))
		}
	}
	switch len(unknown) {
	case 0:
	case 1:
		return nil, fmt.Errorf("conf: unknown setting %s in %s", unknown[0], path)
	default:
		return nil, fmt.Errorf("conf: unknown settings %s in %s", strings.Join(unknown, ", "), path)
	}
	m := make(map[string]any, len(keys))
	for _, k := range keys {
		m[k] = fv.Get(k)
	}
	return m, nil
}

// decode stores raw, as found by viper in any source, into the Config
// field f. The error does not name the key; the caller adds it.
func decode(f reflect.Value, raw any) error {
	switch f.Interface().(type) {
	case time.Duration:
		d, err := toDuration(raw)
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
	case string:
		s, err := toString(raw)
		if err != nil {
			return err
		}
		f.SetString(s)
	case int, int64:
		n, err := toInt(raw, f.Type().Bits())
		if err != nil {
			return err
		}
		f.SetInt(n)
	case []string:
		list, err := toList(raw)
		if err != nil {
			return err
		}
		f.Set(reflect.ValueOf(list))
	default:
		panic(fmt.Sprintf("conf: unsupported field type %s", f.Type()))
	}
	return nil
}

// toString accepts a string or a scalar (a YAML password may parse as a
// number) and returns its text.
func toString(raw any) (string, error) {
	switch v := raw.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(v), nil
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	default:
		return "", fmt.Errorf("must be a string, got %T", raw)
	}
}

// toInt accepts an integer, an integral float or a decimal string that fits
// in bits bits.
func toInt(raw any, bits int) (int64, error) {
	lo, hi := int64(-1)<<(bits-1), int64(1)<<(bits-1)-1
	var n int64
	switch v := raw.(type) {
	case int:
		n = int64(v)
	case int8:
		n = int64(v)
	case int16:
		n = int64(v)
	case int32:
		n = int64(v)
	case int64:
		n = v
	case uint, uint8, uint16, uint32, uint64:
		u := reflect.ValueOf(v).Uint()
		if u > math.MaxInt64 {
			return 0, fmt.Errorf("must be an integer between %d and %d, got %d", lo, hi, u)
		}
		n = int64(u)
	case float32, float64:
		fl := reflect.ValueOf(v).Float()
		if fl != math.Trunc(fl) || fl < math.MinInt64 || fl >= math.MaxInt64 {
			return 0, fmt.Errorf("must be an integer, got %v", fl)
		}
		n = int64(fl)
	case string:
		var err error
		n, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("must be an integer, got %q", v)
		}
	default:
		return 0, fmt.Errorf("must be an integer, got %T", raw)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("must be an integer between %d and %d, got %d", lo, hi, n)
	}
	return n, nil
}

// toDuration accepts a Go duration string such as "2s" or "1m30s". Bare
// numbers are refused: 2 would silently mean two nanoseconds.
func toDuration(raw any) (time.Duration, error) {
	switch v := raw.(type) {
	case time.Duration:
		return v, nil
	case string:
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return 0, fmt.Errorf("must be a Go duration such as 2s or 500ms, got %q", v)
		}
		return d, nil
	default:
		return 0, fmt.Errorf("must be a Go duration with a unit such as 2s or 500ms, got %v", raw)
	}
}

// toList accepts a comma-separated string or a list of strings. Blanks
// around items are trimmed and empty items dropped; no items gives nil.
func toList(raw any) ([]string, error) {
	var items []string
	switch v := raw.(type) {
	case nil:
	case string:
		items = strings.Split(v, ",")
	case []string:
		items = v
	case []any:
		for _, e := range v {
			s, err := toString(e)
			if err != nil {
				return nil, fmt.Errorf("must be a list of strings, got an item of type %T", e)
			}
			items = append(items, s)
		}
	default:
		return nil, fmt.Errorf("must be a comma-separated string or a list, got %T", raw)
	}
	var list []string
	for _, s := range items {
		if s = strings.TrimSpace(s); s != "" {
			list = append(list, s)
		}
	}
	return list, nil
}

// Usage writes the command-line help to w: every setting with its flag,
// environment variable, default and meaning, one per line and aligned.
func Usage(w io.Writer) {
	fmt.Fprint(w, `Usage: dynakv [flags]

Each setting comes from, in increasing precedence: its default, the config
file, the environment, a flag. In a config file (YAML or TOML) a setting's
key is its flag name with '_' for '-', e.g. node_id; keys are
case-insensitive, and an unknown key is an error.

`)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  FLAG\tENVIRONMENT\tDEFAULT\tMEANING")
	fmt.Fprintf(tw, "  --%s FILE\t%s\t(none)\tconfig file: .yaml, .yml or .toml\n", configFlag, configEnvName)
	def := Default()
	for _, s := range settings {
		d, _ := def.Get(s.key)
		if d == "" {
			d = s.derived
		}
		fmt.Fprintf(tw, "  --%s\t%s\t%s\t%s\n", flagName(s.key), envName(s.key), d, s.meaning)
	}
	fmt.Fprintln(tw, "  -h, --help\t\t\tshow this help and exit")
	tw.Flush()
	fmt.Fprint(w, `
n, r and w are clamped to the member count at run time. Every acknowledged
write survives kill -9 in every fsync mode; the mode decides what a power
loss can lose.
`)
}
