package line

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"

	"github.com/kpibot/kpibot/bot"
	"github.com/kpibot/kpibot/bot/chart"
	"github.com/kpibot/kpibot/kpi"
)

// ChartDrawer draws a reply's chart as a PNG; *bot.Bot is one.
type ChartDrawer interface {
	DrawChart(ctx context.Context, w io.Writer, c bot.ChartRequest, s chart.Size) error
}

// LINE shows a picture as an image message: two https URLs LINE fetches,
// the picture and its preview. kpibot serves them itself, at
// <public URL>/charts/<id>.png, where the id is the signed request: the
// chart, its size and when the link expires. Nothing is stored; any
// replica that shares the channel secret can serve any link, and a link
// cannot be changed to show another chart, other shops or for longer.
const (
	chartLinkTTL   = 7 * 24 * time.Hour // a digest is read later the same week
	chartMaxAge    = time.Hour          // how long a client may keep a picture
	maxImageURL    = 2000               // LINE's limit on an image message's URLs
	chartKeyLabel  = "kpibot chart links v1"
	chartPath      = "/charts/"
	chartExt       = ".png"
	sizeLarge      = "large"
	sizePreview    = "preview"
	chartMACLength = sha256.Size
)

// b64 encodes ids: base64url without padding, strict so that an id has
// only one spelling.
var b64 = base64.RawURLEncoding.Strict()

// chartLink is what an id carries.
type chartLink struct {
	Chart   bot.ChartRequest `json:"c"`
	Size    string           `json:"s"` // sizeLarge or sizePreview
	Expires int64            `json:"e"` // Unix seconds
}

// ChartLinks makes signed, expiring links to charts and serves them.
type ChartLinks struct {
	key    []byte // HMAC-SHA256(channel secret, chartKeyLabel); never logged
	base   string // the public URL, without a trailing slash
	drawer ChartDrawer
	now    func() time.Time
	log    *slog.Logger

	forged  atomic.Int64 // requests refused: unsigned, malformed or tampered
	expired atomic.Int64 // requests for links past their expiry
}

// NewChartLinks returns the chart links of a LINE channel. The signing key
// derives from the channel secret, so replicas that share the secret share
// the links and no other secret is needed. publicURL (KPIBOT_PUBLIC_URL)
// is where LINE reaches this server: https, since LINE fetches images only
// over https, or http on a loopback host for tests. It may have a path
// (https://example.com/kpibot) when a proxy strips it before kpibot.
func NewChartLinks(channelSecret, publicURL string, drawer ChartDrawer, now func() time.Time, log *slog.Logger) (*ChartLinks, error) {
	if channelSecret == "" {
		return nil, errors.New("line: chart links: no channel secret")
	}
	if drawer == nil {
		return nil, errors.New("line: chart links: nothing to draw charts with")
	}
	base, err := publicBase(publicURL)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, []byte(channelSecret))
	m.Write([]byte(chartKeyLabel))
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ChartLinks{key: m.Sum(nil), base: base, drawer: drawer, now: now, log: log}, nil
}

// publicBase checks the public URL and returns it without a trailing slash.
func publicBase(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("line: chart links: no public URL (KPIBOT_PUBLIC_URL): LINE fetches chart images from it")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("line: chart links: public URL %q: %w", raw, err)
	}
	if u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("line: chart links: public URL %q is not an absolute URL such as https://kpibot.example.com", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("line: chart links: public URL %q has a user, query or fragment; give only the scheme, host and path", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return "", fmt.Errorf("line: chart links: public URL %q is not https: LINE fetches images only over https", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// isLoopback tells whether host is this machine: localhost, 127.0.0.0/8, ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// URLs returns the links to c as LINE wants them: the picture (1200×600)
// and its preview (480×240), valid for seven days. It fails when a link
// would be longer than LINE takes, as with a great many shops.
func (l *ChartLinks) URLs(c bot.ChartRequest) (original, preview string, err error) {
	exp := l.now().Add(chartLinkTTL).Unix()
	if original, err = l.link(chartLink{Chart: c, Size: sizeLarge, Expires: exp}); err != nil {
		return "", "", err
	}
	if preview, err = l.link(chartLink{Chart: c, Size: sizePreview, Expires: exp}); err != nil {
		return "", "", err
	}
	return original, preview, nil
}

// link is the URL of one signed link.
func (l *ChartLinks) link(c chartLink) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("line: chart link: %w", err)
	}
	u := l.base + chartPath + b64.EncodeToString(payload) + "." + b64.EncodeToString(l.mac(payload)) + chartExt
	if len(u) > maxImageURL {
		return "", fmt.Errorf("line: chart link of %d characters, more than LINE's %d (metric %q, %d shops)", len(u), maxImageURL, c.Chart.Query.Metric, len(c.Chart.Query.Allowed))
	}
	return u, nil
}

func (l *ChartLinks) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, l.key)
	m.Write(payload)
	return m.Sum(nil)
}

// Register adds GET /charts/{id} to mux.
func (l *ChartLinks) Register(mux *http.ServeMux) {
	mux.Handle("GET "+chartPath+"{id}", l)
}

// SignatureFailures counts the requests refused as unsigned, malformed or
// tampered with.
func (l *ChartLinks) SignatureFailures() int64 { return l.forged.Load() }

// Expired counts the requests for genuine links past their expiry.
func (l *ChartLinks) Expired() int64 { return l.expired.Load() }

// ServeHTTP serves a chart link: 403 when its id is not one kpibot signed
// (unsigned, malformed, tampered with, or under another key), 404 when it
// is not a .png, has expired or asks for what does not exist (an unknown
// shop, a metric with no trend), 500 when drawing failed, else the PNG.
func (l *ChartLinks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("id"), chartExt)
	if !ok {
		http.NotFound(w, r)
		return
	}
	c, why := l.verify(id)
	if why != "" {
		l.forged.Add(1)
		l.log.Warn("line: refused a chart link", "why", why, "remote", r.RemoteAddr)
		refuse(w, http.StatusForbidden)
		return
	}
	now := l.now()
	exp := time.Unix(c.Expires, 0)
	if !now.Before(exp) {
		l.expired.Add(1)
		l.log.Info("line: refused an expired chart link", "expired", exp.UTC().Format(time.RFC3339), "remote", r.RemoteAddr)
		refuse(w, http.StatusNotFound)
		return
	}
	size := chart.Large
	if c.Size == sizePreview {
		size = chart.Preview
	}
	var png bytes.Buffer
	if err := l.drawer.DrawChart(r.Context(), &png, c.Chart, size); err != nil {
		var e *kpi.Error
		if errors.As(err, &e) && (e.Code == kpi.NotFound || e.Code == kpi.Invalid) {
			l.log.Info("line: chart link to nothing to draw", "err", err, "metric", c.Chart.Query.Metric)
			refuse(w, http.StatusNotFound)
			return
		}
		l.log.Error("line: draw chart", "err", err, "metric", c.Chart.Query.Metric, "size", c.Size)
		refuse(w, http.StatusInternalServerError)
		return
	}
	age := min(chartMaxAge, exp.Sub(now)) / time.Second
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Content-Length", strconv.Itoa(png.Len()))
	h.Set("Cache-Control", "private, max-age="+strconv.FormatInt(int64(age), 10))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(png.Bytes())
	}
}

// verify checks an id (without .png) and returns what it carries, or why
// it is refused; the reason names no secret.
func (l *ChartLinks) verify(id string) (chartLink, string) {
	var c chartLink
	if len(id) > maxImageURL {
		return c, "too long"
	}
	enc, sig, ok := strings.Cut(id, ".")
	if !ok {
		return c, "unsigned"
	}
	payload, err := b64.DecodeString(enc)
	if err != nil || len(payload) == 0 {
		return c, "malformed payload"
	}
	mac, err := b64.DecodeString(sig)
	if err != nil || len(mac) != chartMACLength {
		return c, "malformed signature"
	}
	if !hmac.Equal(mac, l.mac(payload)) {
		return c, "bad signature"
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.Expires == 0 || (c.Size != sizeLarge && c.Size != sizePreview) {
		return chartLink{}, "malformed signed payload"
	}
	return c, ""
}

// refuse answers an error without a body worth caching.
func refuse(w http.ResponseWriter, status int) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, http.StatusText(status), status)
}

// chartImages adds a reply's chart to its LINE messages as an image
// message, for a Handler or a Pusher.
type chartImages struct {
	links   *ChartLinks // nil: charts go out without their picture
	log     *slog.Logger
	missing sync.Once // the missing links are logged once
}

// add appends r's chart, if it has one, to msgs, its messages: an image
// after the Flex message. Without chart links, when the links fail or when
// msgs already has LINE's five messages, msgs go without it.
func (c *chartImages) add(r bot.Reply, msgs []messaging_api.MessageInterface) []messaging_api.MessageInterface {
	if r.Chart == nil {
		return msgs
	}
	if c.links == nil {
		c.missing.Do(func() {
			c.log.Warn("line: charts go without their picture: no chart links (set KPIBOT_PUBLIC_URL)")
		})
		return msgs
	}
	if len(msgs) >= maxMessages {
		c.log.Warn("line: no room for the chart: the answer already has LINE's five messages", "metric", r.Chart.Query.Metric)
		return msgs
	}
	original, preview, err := c.links.URLs(*r.Chart)
	if err != nil {
		c.log.Warn("line: chart goes without its picture", "err", err)
		return msgs
	}
	return append(msgs, &messaging_api.ImageMessage{OriginalContentUrl: original, PreviewImageUrl: preview})
}
