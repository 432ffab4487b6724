// Command upstream-go is an ordinary MCP server written the way many Go MCP servers are
// (mark3labs/mcp-go, the Go SDK before 1.3.1): net/http plus encoding/json decoding each
// message into a struct. Warden's differential tests put it behind the gateway because
// encoding/json reads JSON differently from JavaScript's JSON.parse: member names match
// case-insensitively, with Unicode folds (U+017F 'ſ' matches 's', U+212A 'K' matches 'k'),
// the last duplicate wins, invalid UTF-8 becomes U+FFFD, and the Content-Type is ignored.
//
// It also routes by the SEP-2243 headers when a client sends them: Mcp-Method replaces the
// body's method and Mcp-Name (plain or "=?base64?...?=") names the tool that runs. That is
// what a server relying on the headers does, and why a gateway must make them match the body.
//
// Every request it receives (method, raw target, headers, raw body) and every tool it runs is
// recorded, and served as JSON at the control path given with -control, which only the test
// knows. It listens on 127.0.0.1, on a port the kernel picks, and prints "LISTENING <port>".
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// rpc is one JSON-RPC message, decoded exactly as mcp-go decodes it.
type rpc struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

// callParams are the params of tools/call.
type callParams struct {
	Name      string         `json:"name"`
	Arguments map[string]any `json:"arguments"`
}

type loggedRequest struct {
	Seq     int                 `json:"seq"`
	Method  string              `json:"method"`
	Target  string              `json:"target"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"` // base64 of the raw bytes
}

type toolRun struct {
	Seq  int    `json:"seq"` // the request that ran it
	Tool string `json:"tool"`
}

var (
	mu       sync.Mutex
	requests []loggedRequest
	runs     []toolRun
)

// The tools this server offers. "héllo" has a non-ASCII name (SEP-2243 base64 header form).
var tools = []string{"echo", "admin_delete", "héllo"}

func main() {
	control := flag.String("control", "", "path of the log endpoint (kept secret by the test)")
	flag.Parse()
	if !strings.HasPrefix(*control, "/") {
		fmt.Fprintln(os.Stderr, "upstream-go: -control /path is required")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "upstream-go:", err)
		os.Exit(1)
	}
	fmt.Printf("LISTENING %d\n", ln.Addr().(*net.TCPAddr).Port)
	// A bare Handler, not ServeMux: ServeMux would clean or redirect odd paths before we log them.
	err = http.Serve(ln, handler{control: *control})
	fmt.Fprintln(os.Stderr, "upstream-go:", err)
	os.Exit(1)
}

type handler struct{ control string }

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && (r.RequestURI == h.control || strings.HasPrefix(r.RequestURI, h.control+"?")) {
		serveLog(w, r)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	seq := record(r, body)
	switch r.Method {
	case http.MethodPost:
		serveMCP(w, r, body, seq)
	case http.MethodDelete:
		w.WriteHeader(http.StatusOK)
	default:
		w.Header().Set("Allow", "POST, DELETE")
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func record(r *http.Request, body []byte) int {
	headers := map[string][]string{}
	for name, values := range r.Header {
		headers[strings.ToLower(name)] = values
	}
	if r.Host != "" {
		headers["host"] = []string{r.Host}
	}
	mu.Lock()
	defer mu.Unlock()
	seq := len(requests) + 1
	requests = append(requests, loggedRequest{
		Seq: seq, Method: r.Method, Target: r.RequestURI, Headers: headers,
		Body: base64.StdEncoding.EncodeToString(body),
	})
	return seq
}

// serveLog answers GET <control>?requests=N&runs=M with what came after those offsets.
func serveLog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	fromRequests, _ := strconv.Atoi(q.Get("requests"))
	fromRuns, _ := strconv.Atoi(q.Get("runs"))
	mu.Lock()
	out := map[string]any{
		"requests": tail(requests, fromRequests),
		"runs":     tail(runs, fromRuns),
		"counts":   map[string]int{"requests": len(requests), "runs": len(runs)},
	}
	data, _ := json.Marshal(out)
	mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write(data)
}

func tail[T any](list []T, from int) []T {
	if from < 0 || from > len(list) {
		from = len(list)
	}
	return append([]T{}, list[from:]...)
}

func serveMCP(w http.ResponseWriter, r *http.Request, body []byte, seq int) {
	route := headerRoute{}
	if values := r.Header.Values("Mcp-Method"); len(values) > 0 {
		route.method, route.hasMethod = values[0], true
	}
	if values := r.Header.Values("Mcp-Name"); len(values) > 0 {
		route.name, route.hasName = decodeHeaderValue(values[0]), true
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var batch []json.RawMessage
		if err := json.Unmarshal(body, &batch); err != nil {
			writeJSON(w, http.StatusBadRequest, errorResponse(nil, -32700, "parse error"))
			return
		}
		answers := []any{}
		for _, raw := range batch {
			if answer := handle(raw, route, seq); answer != nil {
				answers = append(answers, answer)
			}
		}
		if len(answers) == 0 {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		writeJSON(w, http.StatusOK, answers)
		return
	}
	answer := handle(body, route, seq)
	if answer == nil {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	writeJSON(w, http.StatusOK, answer)
}

// headerRoute is what the SEP-2243 headers say, when present.
type headerRoute struct {
	method, name       string
	hasMethod, hasName bool
}

// decodeHeaderValue undoes the SEP-2243 "=?base64?...?=" form; other values are taken as sent.
func decodeHeaderValue(value string) string {
	if strings.HasPrefix(value, "=?base64?") && strings.HasSuffix(value, "?=") && len(value) >= 11 {
		if decoded, err := base64.StdEncoding.DecodeString(value[9 : len(value)-2]); err == nil && utf8.Valid(decoded) {
			return string(decoded)
		}
	}
	return value
}

// handle answers one message; nil for a notification. A tools/call runs even without an id:
// a lenient server that does so is exactly what a gateway must not be surprised by.
func handle(raw json.RawMessage, route headerRoute, seq int) any {
	var msg rpc
	if err := json.Unmarshal(raw, &msg); err != nil {
		return errorResponse(nil, -32700, "parse error")
	}
	if msg.JSONRPC != "2.0" {
		return errorResponse(msg.ID, -32600, "invalid request")
	}
	method := msg.Method
	if route.hasMethod {
		method = route.method
	}
	notification := len(msg.ID) == 0
	var answer any
	switch method {
	case "initialize":
		answer = result(msg.ID, map[string]any{
			"protocolVersion": "2025-06-18",
			"capabilities":    map[string]any{"tools": map[string]any{}},
			"serverInfo":      map[string]any{"name": "upstream-go", "version": "1.0.0"},
		})
	case "ping":
		answer = result(msg.ID, map[string]any{})
	case "tools/list":
		list := []any{}
		for _, name := range tools {
			list = append(list, map[string]any{"name": name, "inputSchema": map[string]any{"type": "object"}})
		}
		answer = result(msg.ID, map[string]any{"tools": list})
	case "tools/call":
		var params callParams
		if len(msg.Params) > 0 {
			if err := json.Unmarshal(msg.Params, &params); err != nil {
				answer = errorResponse(msg.ID, -32602, "invalid params")
				break
			}
		}
		name := params.Name
		if route.hasName {
			name = route.name
		}
		if !known(name) {
			answer = errorResponse(msg.ID, -32602, "unknown tool")
			break
		}
		mu.Lock()
		runs = append(runs, toolRun{Seq: seq, Tool: name})
		mu.Unlock()
		answer = result(msg.ID, map[string]any{"content": []any{map[string]any{"type": "text", "text": "ran " + name}}})
	default:
		if strings.HasPrefix(method, "notifications/") {
			return nil
		}
		answer = errorResponse(msg.ID, -32601, "method not found")
	}
	if notification {
		return nil
	}
	return answer
}

func known(name string) bool {
	for _, tool := range tools {
		if tool == name {
			return true
		}
	}
	return false
}

func idOrNull(id json.RawMessage) json.RawMessage {
	if len(id) == 0 {
		return json.RawMessage("null")
	}
	return id
}

func result(id json.RawMessage, value any) any {
	return map[string]any{"jsonrpc": "2.0", "id": idOrNull(id), "result": value}
}

func errorResponse(id json.RawMessage, code int, message string) any {
	return map[string]any{"jsonrpc": "2.0", "id": idOrNull(id), "error": map[string]any{"code": code, "message": message}}
}

func writeJSON(w http.ResponseWriter, status int, value any) {
	data, err := json.Marshal(value)
	if err != nil {
		// An id the encoder refuses to echo (e.g. RawMessage it cannot re-validate).
		data, _ = json.Marshal(errorResponse(nil, -32603, "internal error"))
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(data)
}
