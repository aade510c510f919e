package line

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/bot/chart"
	"github.com/kpibot/kpibot/bot/line/linetest"
	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// countDrawer draws with drawer, or when it is nil a blank PNG of the size
// asked, and remembers what it was asked to draw.
type countDrawer struct {
	drawer ChartDrawer
	err    error // when set, what drawing fails with

	mu    sync.Mutex
	asked []drawn
}

type drawn struct {
	chart bot.ChartRequest
	size  chart.Size
}

func (d *countDrawer) DrawChart(ctx context.Context, w io.Writer, c bot.ChartRequest, s chart.Size) error {
	d.mu.Lock()
	d.asked = append(d.asked, drawn{c, s})
	d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	if d.drawer != nil {
		return d.drawer.DrawChart(ctx, w, c, s)
	}
	return png.Encode(w, image.NewRGBA(image.Rect(0, 0, s.W, s.H)))
}

func (d *countDrawer) drawings() []drawn {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]drawn(nil), d.asked...)
}

// fakeClock is a clock a test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// lockedBuffer is a log destination safe for the handler's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// chartSite is chart links served on loopback, on a clock of their own.
type chartSite struct {
	links *ChartLinks
	draw  *countDrawer
	clock *fakeClock
	url   string
	log   *lockedBuffer
}

func newChartSite(t *testing.T, channelSecret string, draw *countDrawer) *chartSite {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s := &chartSite{draw: draw, clock: &fakeClock{t: clock}, url: srv.URL, log: &lockedBuffer{}}
	var err error
	s.links, err = NewChartLinks(channelSecret, srv.URL, draw, s.clock.now, slog.New(slog.NewTextHandler(s.log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s.links.Register(mux)
	return s
}

// fetched is an answer to a GET.
type fetched struct {
	status int
	header http.Header
	body   []byte
}

func fetch(t *testing.T, url string) fetched {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fetched{res.StatusCode, res.Header, body}
}

// wantPNG checks that url serves a PNG of w×h (any height when h is 0)
// and returns the answer.
func wantPNG(t *testing.T, url string, w, h int) fetched {
	t.Helper()
	f := fetch(t, url)
	if f.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, f.status, f.body)
	}
	if ct := f.header.Get("Content-Type"); ct != "image/png" {
		t.Errorf("Content-Type %q, want image/png", ct)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(f.body))
	if err != nil || format != "png" {
		t.Fatalf("GET %s: not a PNG (%s, %v)", url, format, err)
	}
	if cfg.Width != w || h != 0 && cfg.Height != h {
		t.Errorf("GET %s: %d×%d, want %d×%d", url, cfg.Width, cfg.Height, w, h)
	}
	// LINE takes pictures up to 10 MB and previews up to 1 MB.
	if limit := map[bool]int{true: 1 << 20, false: 10 << 20}[w <= chart.Preview.W]; len(f.body) > limit {
		t.Errorf("GET %s: %d bytes, more than LINE's %d", url, len(f.body), limit)
	}
	t.Logf("%d×%d PNG of %d bytes", cfg.Width, cfg.Height, len(f.body))
	return f
}

func returnRateChart() bot.ChartRequest {
	day := kpi.DateOf(clock)
	return bot.ChartRequest{
		Query: kpi.Query{Metric: "return_rate", Scope: kpi.Scope{Platform: kpi.Rakuten}, Period: kpi.Range(day-30, day-1), Allowed: []string{"rakuten-flagship"}},
		Lang:  locales.Japanese,
	}
}

func TestChartLinksServeBothSizes(t *testing.T) {
	s := newChartSite(t, secret, &countDrawer{})
	c := returnRateChart()
	original, preview, err := s.links.URLs(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("URL lengths: original %d, preview %d", len(original), len(preview))
	for _, u := range []string{original, preview} {
		if !strings.HasPrefix(u, s.url+"/charts/") || !strings.HasSuffix(u, ".png") || len(u) > 1000 {
			t.Errorf("link %s, want %s/charts/….png, well under 2,000 characters", u, s.url)
		}
	}
	if original == preview {
		t.Error("the picture and its preview share a link")
	}
	f := wantPNG(t, original, 1200, 600)
	if cc := f.header.Get("Cache-Control"); cc != "private, max-age=3600" {
		t.Errorf("Cache-Control %q", cc)
	}
	wantPNG(t, preview, 480, 240)
	got := s.draw.drawings()
	if len(got) != 2 || got[0].size != chart.Large || got[1].size != chart.Preview {
		t.Fatalf("drew %+v, want the large then the preview size", got)
	}
	for _, d := range got {
		if !reflect.DeepEqual(d.chart, c) {
			t.Errorf("drew %+v, want %+v", d.chart, c)
		}
	}
	// Near its expiry a link is not kept beyond it.
	s.clock.advance(chartLinkTTL - 10*time.Minute)
	if cc := wantPNG(t, preview, 480, 240).header.Get("Cache-Control"); cc != "private, max-age=600" {
		t.Errorf("Cache-Control %q ten minutes before expiry", cc)
	}
	// Another replica sharing the channel secret serves the same link.
	other := newChartSite(t, secret, &countDrawer{})
	wantPNG(t, other.url+strings.TrimPrefix(original, s.url), 1200, 600)
}

func TestChartLinksRefuseForgeries(t *testing.T) {
	draw := &countDrawer{}
	s := newChartSite(t, secret, draw)
	original, preview, err := s.links.URLs(returnRateChart())
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(original, s.url+"/charts/"), ".png")
	payload, sig, _ := strings.Cut(id, ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	// Tampered: all shops instead of the one allowed, under the old signature.
	wider := base64.RawURLEncoding.EncodeToString(bytes.Replace(raw, []byte(`["rakuten-flagship"]`), []byte(`null`), 1))
	if wider == payload {
		t.Fatal("the test's tampering changed nothing")
	}
	// A signature of the right length that is not the payload's.
	mac, _ := base64.RawURLEncoding.DecodeString(sig)
	mac[7] ^= 0x01
	badSig := base64.RawURLEncoding.EncodeToString(mac)
	// The same link made with another channel's secret.
	stranger := newChartSite(t, "another-channel-secret-0123456789", &countDrawer{})
	foreign, _, err := stranger.links.URLs(returnRateChart())
	if err != nil {
		t.Fatal(err)
	}
	base := s.url + "/charts/"
	tests := []struct {
		name, url string
		want      int
	}{
		{"unsigned", base + payload + ".png", http.StatusForbidden},
		{"tampered payload", base + wider + "." + sig + ".png", http.StatusForbidden},
		{"tampered signature", base + payload + "." + badSig + ".png", http.StatusForbidden},
		{"signature cut short", base + payload + "." + sig[:20] + ".png", http.StatusForbidden},
		{"wrong key", s.url + strings.TrimPrefix(foreign, stranger.url), http.StatusForbidden},
		{"not base64", base + "%21%21%21.%3F%3F%3F.png", http.StatusForbidden},
		{"empty", base + ".png", http.StatusForbidden},
		{"the preview's signature on the picture", base + payload + "." + strings.Split(strings.TrimPrefix(preview, base), ".")[1] + ".png", http.StatusForbidden},
		{"not a png", base + id + ".jpg", http.StatusNotFound},
		{"no extension", base + id, http.StatusNotFound},
	}
	forbidden := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fetch(t, tt.url)
			if f.status != tt.want {
				t.Errorf("GET answered %d, want %d", f.status, tt.want)
			}
			if ct := f.header.Get("Content-Type"); ct == "image/png" {
				t.Errorf("refused with Content-Type %s", ct)
			}
		})
		if tt.want == http.StatusForbidden {
			forbidden++
		}
	}
	if n := s.links.SignatureFailures(); n != int64(forbidden) {
		t.Errorf("counted %d refused links, want %d", n, forbidden)
	}
	if n := len(draw.drawings()); n != 0 {
		t.Errorf("drew %d charts for refused links", n)
	}

	// A week and a second later the genuine link has expired.
	s.clock.advance(chartLinkTTL + time.Second)
	if f := fetch(t, original); f.status != http.StatusNotFound {
		t.Errorf("expired link answered %d, want 404", f.status)
	}
	if n := s.links.Expired(); n != 1 {
		t.Errorf("counted %d expired links, want 1", n)
	}
	if n := len(draw.drawings()); n != 0 {
		t.Errorf("drew %d charts for refused links", n)
	}

	log := s.log.String()
	for _, why := range []string{"unsigned", "bad signature", "malformed", "expired"} {
		if !strings.Contains(log, why) {
			t.Errorf("the log does not say %q:\n%s", why, log)
		}
	}
	key := hmac.New(sha256.New, []byte(secret))
	key.Write([]byte("kpibot chart links v1"))
	k := key.Sum(nil)
	for _, leak := range []string{secret, hex.EncodeToString(k), base64.StdEncoding.EncodeToString(k), base64.RawURLEncoding.EncodeToString(k)} {
		if strings.Contains(log, leak) {
			t.Errorf("the log holds the secret or the key %q", leak)
		}
	}
}

func TestChartLinksDrawingErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"unknown shop", fmt.Errorf("bot: chart: %w", kpi.Errorf(kpi.NotFound, "error.unknown_shop", nil, nil)), http.StatusNotFound},
		{"no trend", kpi.Errorf(kpi.Invalid, "error.no_series", nil, nil), http.StatusNotFound},
		{"store down", fmt.Errorf("bot: chart: %w", kpi.Errorf(kpi.Unavailable, "error.store", nil, errors.New("disk I/O error"))), http.StatusInternalServerError},
		{"font broken", errors.New("chart: parse embedded font"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newChartSite(t, secret, &countDrawer{err: tt.err})
			original, _, err := s.links.URLs(returnRateChart())
			if err != nil {
				t.Fatal(err)
			}
			f := fetch(t, original)
			if f.status != tt.want || f.header.Get("Content-Type") == "image/png" {
				t.Errorf("answered %d %s, want %d", f.status, f.header.Get("Content-Type"), tt.want)
			}
			if tt.want == http.StatusInternalServerError && !strings.Contains(s.log.String(), "level=ERROR") {
				t.Errorf("the failure was not logged as an error:\n%s", s.log.String())
			}
			if s.links.SignatureFailures() != 0 {
				t.Error("a genuine link counted as refused")
			}
		})
	}
}

func TestNewChartLinksWantsHTTPS(t *testing.T) {
	draw := &countDrawer{}
	for _, u := range []string{
		"http://kpibot.example.com",
		"http://10.0.0.5:8080",
		"ftp://kpibot.example.com",
		"kpibot.example.com",
		"https://",
		"",
		"https://user:pw@kpibot.example.com",
		"https://kpibot.example.com/?a=1",
		"https://kpibot.example.com/#top",
	} {
		if _, err := NewChartLinks(secret, u, draw, now, nil); err == nil {
			t.Errorf("public URL %q accepted", u)
		} else if u == "http://kpibot.example.com" && !strings.Contains(err.Error(), "https") {
			t.Errorf("public URL %q: %v; want it to say https", u, err)
		}
	}
	for u, want := range map[string]string{
		"https://kpibot.example.com":         "https://kpibot.example.com/charts/",
		"https://kpibot.example.com/":        "https://kpibot.example.com/charts/",
		"https://example.com:8443/kpibot/":   "https://example.com:8443/kpibot/charts/",
		"http://127.0.0.1:8080":              "http://127.0.0.1:8080/charts/",
		"http://localhost:8080":              "http://localhost:8080/charts/",
		"http://[::1]:8080":                  "http://[::1]:8080/charts/",
		"HTTPS://KPIBOT.EXAMPLE.COM/Charts2": "https://KPIBOT.EXAMPLE.COM/Charts2/charts/",
	} {
		l, err := NewChartLinks(secret, u, draw, now, nil)
		if err != nil {
			t.Errorf("public URL %q refused: %v", u, err)
			continue
		}
		if original, _, err := l.URLs(returnRateChart()); err != nil || !strings.HasPrefix(original, want) {
			t.Errorf("public URL %q: link %s, %v; want it under %s", u, original, err, want)
		}
	}
	if _, err := NewChartLinks("", "https://kpibot.example.com", draw, now, nil); err == nil {
		t.Error("chart links without a channel secret")
	}
	if _, err := NewChartLinks(secret, "https://kpibot.example.com", nil, now, nil); err == nil {
		t.Error("chart links without a drawer")
	}
}

func TestChartLinksTooLong(t *testing.T) {
	l, err := NewChartLinks(secret, "https://kpibot.example.com", &countDrawer{}, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := returnRateChart()
	for i := range 20 {
		c.Query.Allowed = append(c.Query.Allowed, fmt.Sprintf("shop-%02d-rakuten", i))
	}
	original, _, err := l.URLs(c)
	if err != nil || len(original) > maxImageURL {
		t.Fatalf("20 shops: %d characters, %v", len(original), err)
	}
	t.Logf("a link for 21 shops: %d characters", len(original))
	for i := range 200 {
		c.Query.Allowed = append(c.Query.Allowed, fmt.Sprintf("shop-%03d-yahoo", i))
	}
	if _, _, err := l.URLs(c); err == nil || !strings.Contains(err.Error(), "2000") {
		t.Errorf("a link for 221 shops: %v, want an error about LINE's 2000 characters", err)
	}
}

// messageTypes lists the types of a request's messages.
func messageTypes(s linetest.Sent) []string {
	var out []string
	for _, raw := range s.Messages {
		var m struct{ Type string }
		json.Unmarshal(raw, &m)
		out = append(out, m.Type)
	}
	return out
}

func TestChartAnswerIsFlexThenImage(t *testing.T) {
	r := newRig(t)
	u := userID(50)
	r.bind(kpi.ChatChannel{ID: u, Role: kpi.RoleJPSupport, Lang: "ja", Shops: []string{"rakuten"}})
	r.send(textEvent("01JCHART000000000000000001", fromUser(u), "/kpi 返品率 過去30日 グラフ"))
	sent := r.line.Sent()
	if len(sent) != 1 || sent[0].Op != "replyMessage" {
		t.Fatalf("sent %+v, want one reply", sent)
	}
	if got := strings.Join(messageTypes(sent[0]), ","); got != "flex,image" {
		t.Fatalf("reply of %s, want flex,image", got)
	}
	images := r.line.Images()
	if len(images) != 1 || images[0].Index != 1 {
		t.Fatalf("images %+v", images)
	}
	start := time.Now()
	wantPNG(t, images[0].Original, 1200, 600)
	wantPNG(t, images[0].Preview, 480, 240)
	t.Logf("drew both sizes from SQLite in %v", time.Since(start))
	d := r.drawn.drawings()
	// The link carries the chat's shops: it shows no more than the chat may see.
	if len(d) != 2 || d[0].chart.Query.Metric != "return_rate" || d[0].chart.Lang != locales.Japanese ||
		strings.Join(d[0].chart.Query.Allowed, ",") != "rakuten" {
		t.Errorf("drew %+v", d)
	}

	// Without グラフ the answer has no picture.
	r.send(textEvent("01JCHART000000000000000002", fromUser(u), "/kpi 返品率 過去30日"))
	if got := strings.Join(messageTypes(r.line.Sent()[1]), ","); got != "flex" {
		t.Errorf("answer without a chart: %s", got)
	}
}

func TestChartsAreNotForUnboundChatsOrPlainText(t *testing.T) {
	r := newRig(t)
	// An unbound group sees no numbers, and no picture of them either.
	r.send(textEvent("01JCHARTUNBOUND00000000001", inGroup(groupID(56), userID(56)), "/kpi 返品率 過去30日 グラフ"))
	// A bound one's picture goes with the Flex only: when LINE refuses
	// that, the plain text goes alone.
	u := userID(57)
	r.bind(kpi.ChatChannel{ID: u, Role: kpi.RoleJPSupport, Lang: "ja", Shops: []string{"rakuten"}})
	r.line.Fail("replyMessage", 1, 400, "A message (messages[0]) in the request body is invalid")
	r.send(textEvent("01JCHARTPLAIN0000000000001", fromUser(u), "/kpi 返品率 過去30日 グラフ"))
	sent := r.line.Sent()
	if len(sent) != 2 {
		t.Fatalf("sent %d answers, want 2", len(sent))
	}
	for _, s := range sent {
		for _, typ := range messageTypes(s) {
			if typ != "text" {
				t.Errorf("answer %+v has a %s message, want text alone", s, typ)
			}
		}
	}
	if n := len(r.drawn.drawings()); n != 0 {
		t.Errorf("drew %d charts", n)
	}
}

func TestDigestPushCarriesItsChart(t *testing.T) {
	r := newRig(t)
	ch := kpi.ChatChannel{Platform: Platform, ID: groupID(51), Role: kpi.RoleHQ, Lang: "zh"}
	rep, err := r.bot.Report(context.Background(), bot.ReportDigest, ch, kpi.DateOf(clock))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Chart == nil {
		t.Fatal("the digest has no chart")
	}
	p := newPusher(t, r.line).WithCharts(r.links)
	d, err := p.Deliver(context.Background(), []Push{{Chat: ch.ID, Key: "digest:2026-11-28", Reply: rep}}, ch)
	if err != nil || len(d.Sent) != 1 {
		t.Fatalf("delivered %+v, %v", d, err)
	}
	sent := r.line.Sent()
	if len(sent) != 1 || sent[0].Op != "pushMessage" {
		t.Fatalf("sent %+v, want one push", sent)
	}
	if got := strings.Join(messageTypes(sent[0]), ","); got != "flex,image" {
		t.Fatalf("push of %s, want flex,image", got)
	}
	// An overview is as high as its rows of panels need.
	img := r.line.Images()[0]
	wantPNG(t, img.Original, 1200, 0)
	wantPNG(t, img.Preview, 480, 0)
	if d := r.drawn.drawings(); len(d) != 2 || d[0].chart.Query.Metric != "" || d[0].chart.Lang != bot.ReportLang(ch) ||
		d[0].size != chart.Large || d[1].size != chart.Preview {
		t.Errorf("drew %+v, want the digest's overview in both sizes", d)
	}
}

// answerer answers every line with the same reply.
type answerer bot.Reply

func (a answerer) Handle(context.Context, bot.Request) bot.Reply { return bot.Reply(a) }

func TestChartKeepsToFiveMessages(t *testing.T) {
	c := returnRateChart()
	long := bot.Reply{Text: strings.Repeat("返品率が目標を超えました。\n", 3000), Lang: locales.Japanese, Chart: &c}
	if n := len(TextMessages(long)); n != maxMessages {
		t.Fatalf("the test's reply is %d messages, want %d", n, maxMessages)
	}
	r := newRigWith(t, func(cfg *Config) { cfg.Bot = answerer(long) })
	r.send(textEvent("01JFIVE0000000000000000001", fromUser(userID(52)), "anything"))
	sent := r.line.Sent()
	if len(sent) != 1 || len(sent[0].Messages) != maxMessages || len(r.line.Images()) != 0 {
		t.Fatalf("sent %+v, want one reply of five texts", sent)
	}

	// Pushes: alone, and packed together when the quota is short.
	fake := linetest.NewServer(t)
	fake.SetMembers(groupID(53), 10)
	p := newPusher(t, fake).WithCharts(r.links)
	withChart := metricReply()
	withChart.Chart = &c
	pushes := []Push{{Chat: groupID(53), Key: "long", Reply: long}}
	for i := range 3 {
		pushes = append(pushes, Push{Chat: groupID(53), Key: fmt.Sprint("chart:", i), Reply: withChart})
	}
	if _, err := p.Deliver(context.Background(), pushes, kpi.ChatChannel{}); err != nil {
		t.Fatal(err)
	}
	fake.SetQuota(1000, 965) // 40 needed, 35 left: combined into 3 pushes of 10
	for i := range pushes {
		pushes[i].Key += ":combined"
	}
	d, err := p.Deliver(context.Background(), pushes, kpi.ChatChannel{})
	if err != nil || !d.Combined {
		t.Fatalf("delivered %+v, %v; want combined", d, err)
	}
	var shapes []string
	for _, s := range fake.Sent() {
		if len(s.Messages) > maxMessages {
			t.Errorf("a push of %d messages", len(s.Messages))
		}
		shapes = append(shapes, strings.Join(messageTypes(s), ","))
	}
	want := []string{
		"text,text,text,text,text", "flex,image", "flex,image", "flex,image", // one by one
		"text,text,text,text,text", "flex,image,flex,image", "flex,image", // combined
	}
	if !reflect.DeepEqual(shapes, want) {
		t.Errorf("pushes %q, want %q", shapes, want)
	}
}

func TestChartWithoutLinksGoesWithoutPicture(t *testing.T) {
	log := &lockedBuffer{}
	c := returnRateChart()
	withChart := metricReply()
	withChart.Chart = &c
	r := newRigWith(t, func(cfg *Config) {
		cfg.Bot, cfg.Charts, cfg.Log = answerer(withChart), nil, slog.New(slog.NewTextHandler(log, nil))
	})
	for i := range 3 {
		r.send(textEvent(fmt.Sprintf("01JNOLINKS%016d", i), fromUser(userID(54)), "返品率 グラフ"))
	}
	for _, s := range r.line.Sent() {
		if got := strings.Join(messageTypes(s), ","); got != "flex" {
			t.Errorf("answer of %s, want flex alone", got)
		}
	}
	if n := len(r.line.Sent()); n != 3 {
		t.Errorf("%d answers, want 3", n)
	}
	if n := strings.Count(log.String(), "KPIBOT_PUBLIC_URL"); n != 1 {
		t.Errorf("the missing chart links were logged %d times, want once:\n%s", n, log.String())
	}

	// A chart whose link would be too long goes without its picture too.
	for i := range 300 {
		c.Query.Allowed = append(c.Query.Allowed, fmt.Sprintf("shop-%03d", i))
	}
	r2 := newRigWith(t, func(cfg *Config) { cfg.Bot, cfg.Log = answerer(withChart), slog.New(slog.NewTextHandler(log, nil)) })
	r2.send(textEvent("01JTOOLONG0000000000000001", fromUser(userID(55)), "返品率 グラフ"))
	if s := r2.line.Sent(); len(s) != 1 || strings.Join(messageTypes(s[0]), ",") != "flex" {
		t.Errorf("sent %+v, want the Flex alone", s)
	}
	if !strings.Contains(log.String(), "without its picture") {
		t.Errorf("the failed link was not logged:\n%s", log.String())
	}
}

// quietTB lets a test expect the fake's problems instead of failing on them.
type quietTB struct{ testing.TB }

func (quietTB) Errorf(string, ...any) {}

func TestFakeRefusesImagesLINECannotFetch(t *testing.T) {
	tests := []struct {
		name, original, preview string
		ok                      bool
	}{
		{"https", "https://kpibot.example.com/charts/a.png", "https://kpibot.example.com/charts/b.png", true},
		{"loopback", "http://127.0.0.1:8080/charts/a.png", "http://[::1]:8080/charts/b.png", true},
		{"http", "http://kpibot.example.com/charts/a.png", "https://kpibot.example.com/charts/b.png", false},
		{"relative", "https://kpibot.example.com/charts/a.png", "/charts/b.png", false},
		{"too long", "https://kpibot.example.com/" + strings.Repeat("a", 2000) + ".png", "https://kpibot.example.com/charts/b.png", false},
		{"missing preview", "https://kpibot.example.com/charts/a.png", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := linetest.NewServer(quietTB{t})
			client, err := NewClient(ClientConfig{Token: linetest.Token, BaseURL: fake.URL, Backoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			var img any = &messaging_api.ImageMessage{OriginalContentUrl: tt.original, PreviewImageUrl: tt.preview}
			if tt.preview == "" {
				img = rawMessage(`{"type":"image","originalContentUrl":"` + tt.original + `"}`)
			}
			err = client.Reply(context.Background(), "rt-image", []messaging_api.MessageInterface{img.(messaging_api.MessageInterface)})
			if ok := err == nil; ok != tt.ok {
				t.Errorf("reply: %v; want accepted %v (problems %q)", err, tt.ok, fake.Problems())
			}
			if got := len(fake.Images()); got != map[bool]int{true: 1, false: 0}[tt.ok] {
				t.Errorf("%d images recorded", got)
			}
		})
	}
}

// rawMessage is a message written out, to send what the SDK would not.
type rawMessage string

func (rawMessage) GetType() string { return "image" }

func (m rawMessage) MarshalJSON() ([]byte, error) { return []byte(m), nil }
