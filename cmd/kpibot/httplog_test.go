package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRequestIDs(t *testing.T) {
	var buf syncBuffer
	log := slog.New(requestIDs{slog.NewJSONHandler(&buf, nil)})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /charts/{id}", func(w http.ResponseWriter, r *http.Request) {
		log.WarnContext(r.Context(), "refused a chart link")
		http.Error(w, "forbidden", http.StatusForbidden)
	})
	srv := httptest.NewServer(withRequestIDs(mux, mux, log))
	defer srv.Close()

	tests := []struct {
		name, path, header string
		keep               bool // the caller's id is used
		status             int
		route              string
	}{
		{"a new id", "/charts/eyJjIjp7fQ.abc.png", "", false, 403, "GET /charts/{id}"},
		{"the load balancer's id", "/charts/x.png", "lb-7f3a.1", true, 403, "GET /charts/{id}"},
		{"a forged id is replaced", "/charts/x.png", "a\" injected=1", false, 403, "GET /charts/{id}"},
		{"too long", "/charts/x.png", strings.Repeat("a", 65), false, 403, "GET /charts/{id}"},
		{"unmatched", "/nowhere", "", false, 404, "unmatched"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(buf.String())
			req, _ := http.NewRequest(http.MethodGet, srv.URL+tt.path, nil)
			if tt.header != "" {
				req.Header.Set("X-Request-Id", tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			id := resp.Header.Get("X-Request-Id")
			if resp.StatusCode != tt.status || !plainToken(id) || (id == tt.header) != tt.keep {
				t.Fatalf("status %d, id %q; want %d, keep %v", resp.StatusCode, id, tt.status, tt.keep)
			}
			var lines []map[string]any
			for _, l := range strings.Split(strings.TrimSpace(buf.String()[before:]), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("not a JSON log line: %q", l)
				}
				lines = append(lines, m)
			}
			access := lines[len(lines)-1]
			if access["msg"] != "http request" || access["request_id"] != id || access["route"] != tt.route ||
				access["status"] != float64(tt.status) || access["method"] != "GET" {
				t.Errorf("access line %v", access)
			}
			if bytes.Contains([]byte(buf.String()), []byte("eyJjIjp7fQ")) {
				t.Errorf("the raw path reached the log: %s", buf.String())
			}
			if tt.status == 403 && (len(lines) != 2 || lines[0]["request_id"] != id) {
				t.Errorf("the handler's line does not carry the request id: %v", lines)
			}
		})
	}
}
