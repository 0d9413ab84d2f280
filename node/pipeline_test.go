package node

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"net"
	"strconv"
	"testing"
	"time"
)

// appendCommand encodes args as a RESP array of bulk strings.
func appendCommand(b []byte, args ...string) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, "\r\n"...)
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, "\r\n"...)
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	return b
}

// readReply reads one whole RESP2 or RESP3 reply and returns its bytes.
func readReply(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadBytes('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("malformed reply line %q", line)
	}
	out := line
	n := func() (int, error) { return strconv.Atoi(string(line[1 : len(line)-2])) }
	switch line[0] {
	case '+', '-', ':', '_', '#', ',', '(':
		return out, nil
	case '$', '=', '!':
		size, err := n()
		if err != nil || size < 0 {
			return out, err // a RESP2 null bulk ($-1) has no body
		}
		body := make([]byte, size+2)
		if _, err := io.ReadFull(br, body); err != nil {
			return nil, err
		}
		return append(out, body...), nil
	case '*', '~', '>', '%', '|':
		count, err := n()
		if err != nil {
			return nil, err
		}
		if line[0] == '%' || line[0] == '|' {
			count *= 2
		}
		for i := 0; i < count; i++ {
			el, err := readReply(br)
			if err != nil {
				return nil, err
			}
			out = append(out, el...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown reply type %q", line)
}

// pipelineScript is a seeded mix of data commands on a few keys (so that
// commands on one key must keep their order), multi-key commands, and
// barriers that read or change connection state or the whole keyspace.
func pipelineScript(seed int64, count int) [][]string {
	rng := rand.New(rand.NewSource(seed))
	key := func() string { return "k" + strconv.Itoa(rng.Intn(6)) }
	var cmds [][]string
	for i := 0; i < count; i++ {
		v := strconv.Itoa(i)
		switch r := rng.Intn(100); {
		case r < 20:
			cmds = append(cmds, []string{"SET", key(), v})
		case r < 35:
			cmds = append(cmds, []string{"GET", key()})
		case r < 50:
			cmds = append(cmds, []string{"APPEND", key(), "," + v})
		case r < 55:
			cmds = append(cmds, []string{"GETSET", key(), v})
		case r < 60:
			cmds = append(cmds, []string{"DEL", key(), key()})
		case r < 65:
			cmds = append(cmds, []string{"EXISTS", key(), key(), key()})
		case r < 70:
			cmds = append(cmds, []string{"MSET", key(), v, key(), v + "m"})
		case r < 75:
			cmds = append(cmds, []string{"MGET", key(), key(), key()})
		case r < 80:
			cmds = append(cmds, []string{"STRLEN", key()})
		case r < 83:
			cmds = append(cmds, []string{"SET", key(), v, "NX"})
		case r < 85:
			cmds = append(cmds, []string{"CLIENT", "SETNAME", "n" + v})
		case r < 87:
			cmds = append(cmds, []string{"CLIENT", "GETNAME"})
		case r < 89:
			cmds = append(cmds, []string{"DBSIZE"})
		case r < 91:
			cmds = append(cmds, []string{"GET"}) // wrong arity
		case r < 93:
			cmds = append(cmds, []string{"NOSUCHCMD", v})
		case r < 95:
			cmds = append(cmds, []string{"HELLO", strconv.Itoa(2 + rng.Intn(2))})
		case r < 97:
			cmds = append(cmds, []string{"SET", key(), v, "BOGUS"}) // syntax error
		default:
			cmds = append(cmds, []string{"PING", v})
		}
	}
	return cmds
}

// TestPipelineAnswersAsSequential sends one seeded script to two fresh
// nodes: to the first as a single pipeline (so its data commands run
// concurrently), to the second one command at a time. Every reply must be
// byte for byte the same: concurrency inside a pipeline is invisible to the
// client, including commands on one key keeping their order and barriers
// (CLIENT SETNAME, HELLO's protocol switch, DBSIZE) seeing every earlier
// command done.
func TestPipelineAnswersAsSequential(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		t.Run(strconv.FormatInt(seed, 10), func(t *testing.T) {
			script := pipelineScript(seed, 600)
			piped, _ := startNode(t, testConfig(t))
			alone, _ := startNode(t, testConfig(t))

			dial := func(addr string) (net.Conn, *bufio.Reader) {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
				c.SetDeadline(time.Now().Add(30 * time.Second))
				return c, bufio.NewReader(c)
			}

			want := make([][]byte, len(script))
			ac, abr := dial(alone.Addr())
			for i, cmd := range script {
				if _, err := ac.Write(appendCommand(nil, cmd...)); err != nil {
					t.Fatal(err)
				}
				r, err := readReply(abr)
				if err != nil {
					t.Fatalf("command %d %q alone: %v", i, cmd, err)
				}
				want[i] = r
			}

			pc, pbr := dial(piped.Addr())
			var buf []byte
			for _, cmd := range script {
				buf = appendCommand(buf, cmd...)
			}
			go pc.Write(buf) // the replies are read meanwhile
			for i, cmd := range script {
				got, err := readReply(pbr)
				if err != nil {
					t.Fatalf("command %d %q in the pipeline: %v", i, cmd, err)
				}
				if !bytes.Equal(got, want[i]) {
					t.Fatalf("command %d %q: pipelined reply %q, alone %q", i, cmd, got, want[i])
				}
			}
		})
	}
}
