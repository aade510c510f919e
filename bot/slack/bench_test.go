package slack

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// BenchmarkSlashCommand sends signed slash commands through kpibot's
// handler (signature, form, answer, Block Kit, JSON) and, as the reference,
// through a bare net/http handler that only checks the signature, from as
// many clients at once as there are cores, as a server sees them. The goal
// is at least half the reference's throughput.
func BenchmarkSlashCommand(b *testing.B) {
	fake := newFakeSlack(b)
	body := commandBody("returns rakuten last week", fake.URL+"/response")
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil || !verify(r.Header, data, secret, clock) {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	_, full := newTestHandler(b, answer("bench"), fake, nil)
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"kpibot", full}} {
		b.Run(c.name, func(b *testing.B) {
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if w := serve(c.h, signedRequest("/slack/commands", body, 0, secret)); w.Code != http.StatusOK {
						b.Errorf("%d %s", w.Code, w.Body)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}
