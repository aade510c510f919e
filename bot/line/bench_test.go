package line

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kpibot/kpibot/kpi"
)

// BenchmarkWebhook10Events is one webhook request of ten text messages
// (KPI questions in a bound bilingual group) through net/http: the signature check,
// parsing, recording each webhookEventId in SQLite, the answers computed by
// the real bot on the demo data, rendered as Flex and replied to a LINE
// stand-in on loopback. "ack" is the time until LINE gets its 200 (the
// answers then run with the clock stopped); "answered" until the ten
// replies have been sent.
func BenchmarkWebhook10Events(b *testing.B) {
	// Nine metrics and one overview of all 32, in three languages.
	questions := []string{"/kpi 退货率 上周", "/kpi 返品率 先週", "kpi returns last week", "kpi 差评 上月",
		"kpi 24小时发货率 昨天", "kpi 初回応答 先週", "kpi acos last month", "kpi 在庫日数", "kpi 价格指数", "kpi status"}
	for _, mode := range []string{"ack", "answered"} {
		b.Run(mode, func(b *testing.B) {
			r := newRig(b)
			// A stand-in that takes replies as LINE does, without the
			// fake's model checks, which would dominate the figure.
			stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				io.Copy(io.Discard, req.Body)
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"sentMessages":[{"id":"1","quoteToken":"q"}]}`)
			}))
			b.Cleanup(stub.Close)
			client, err := NewClient(ClientConfig{Token: "t", BaseURL: stub.URL})
			if err != nil {
				b.Fatal(err)
			}
			r.h.client = client
			g := groupID(500)
			r.bind(kpi.ChatChannel{ID: g, Role: kpi.RoleHQ, Lang: "zh+ja"})
			bodies := make([][]byte, 0, b.N)
			for i := range b.N {
				var events []map[string]any
				for j, q := range questions {
					events = append(events, textEvent(fmt.Sprintf("01JBENCH%08d%010d", i, j), inGroup(g, userID(j)), q))
				}
				bodies = append(bodies, callback(b, events...))
			}
			hc := &http.Client{}
			b.ResetTimer()
			for i := range b.N {
				req, _ := http.NewRequest(http.MethodPost, r.url, bytes.NewReader(bodies[i]))
				req.Header.Set("x-line-signature", sign(bodies[i]))
				res, err := hc.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("answered %d", res.StatusCode)
				}
				if mode == "ack" {
					b.StopTimer() // the answers are not part of the ack
				}
				r.h.Wait()
				b.StartTimer()
			}
			b.StopTimer()
			r.h.Wait()
		})
	}
}
