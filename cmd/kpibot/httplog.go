package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"
)

// requestIDKey is the context key of a request's id.
type requestIDKey struct{}

// requestID returns the id of the request ctx belongs to, "" outside one.
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// withRequestIDs gives every request an id: the caller's X-Request-Id when
// it is a plain token (a load balancer's), else a new random one. The id
// goes back in the response's X-Request-Id, rides in the request's context
// (so that every log line written with it carries request_id, see
// requestIDs) and ends the request in one access log line: method, the
// route that matched (never the raw path, which may hold a signed chart
// id), status and duration. routes is the mux that next serves with.
func withRequestIDs(next http.Handler, routes *http.ServeMux, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !plainToken(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(sw, r.WithContext(ctx))
		_, route := routes.Handler(r)
		if route == "" {
			route = "unmatched"
		}
		log.LogAttrs(ctx, slog.LevelInfo, "http request", slog.String("method", r.Method), slog.String("route", route),
			slog.Int("status", sw.status), slog.Duration("duration", time.Since(start)))
	})
}

// plainToken reports whether s may be used as a request id as it is: 1 to
// 64 letters, digits, '-', '_' or '.', nothing a log could be forged with.
func plainToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// newRequestID returns 16 random hex digits.
func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (flushes,
// deadlines) through the wrapper.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// requestIDs is a slog.Handler that adds request_id to every record logged
// with the context of a request (log.InfoContext(ctx, …)).
type requestIDs struct{ slog.Handler }

func (h requestIDs) Handle(ctx context.Context, r slog.Record) error {
	if id := requestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDs) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDs{h.Handler.WithAttrs(attrs)}
}

func (h requestIDs) WithGroup(name string) slog.Handler { return requestIDs{h.Handler.WithGroup(name)} }
