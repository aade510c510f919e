package amazon

// Amazon Ads: Sponsored Products campaign performance, one row per campaign
// and day, from the reporting API version 3. A report is asked for, polled
// until Amazon has built it, and downloaded from the pre-signed URL it
// names as a gzipped JSON array.

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// The reporting API's limits and the sync's pace.
const (
	// adsMaxDays is the longest date range one report may span.
	adsMaxDays = 31
	// adsRestateDays is Amazon's attribution window for Sponsored
	// Products (sales14d, purchases14d): a purchase up to 14 days after a
	// click counts on the click's day, so a day's figures keep changing
	// for 14 days. Every sync pulls those days again.
	adsRestateDays = 14
	// adsRetentionDays is how far back Amazon keeps spCampaigns data.
	adsRetentionDays = 95

	// A report takes minutes to build (up to hours on a busy day): the
	// first poll waits adsPollFirst, each next one twice as long, at most
	// adsPollMax, and the report is given up after adsPollFor.
	adsPollFirst = 15 * time.Second
	adsPollMax   = time.Minute
	adsPollFor   = time.Hour
)

// The media types of the reporting API's versioned operations.
const (
	adsCreateRequestType  = "application/vnd.createasyncreportrequest.v3+json"
	adsCreateResponseType = "application/vnd.createasyncreportresponse.v3+json"
	adsGetResponseType    = "application/vnd.getasyncreportresponse.v3+json"
)

// adsColumns are the columns of the campaign report the sync asks for.
var adsColumns = []string{"date", "campaignId", "campaignName", "impressions", "clicks", "cost", "sales14d", "purchases14d"}

// AdsConfig is what an AdsClient works with.
type AdsConfig struct {
	// Credentials are a Login with Amazon app's (it may be the SP-API's)
	// and the advertiser's refresh token for it.
	Credentials Credentials
	// ProfileID is the advertiser's profile on amazon.co.jp, sent as
	// Amazon-Advertising-API-Scope.
	ProfileID string
	Endpoint  string       // "": DefaultAdsEndpoint
	TokenURL  string       // Login with Amazon; "": DefaultTokenURL
	HTTP      *http.Client // nil: one with a 60-second timeout
	Now       func() time.Time
	// Sleep waits between retries, for the rate limits and between polls;
	// nil: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	Log   *slog.Logger
}

// AdsClient calls Amazon Ads for one advertiser profile. It shares the
// SP-API client's machinery: Login with Amazon tokens, retries, rate
// limits and error answers.
type AdsClient struct {
	c       *Client // its Endpoint is Amazon Ads'
	profile string
	log     *slog.Logger
}

// NewAdsClient checks c and fills in its defaults.
func NewAdsClient(c AdsConfig) (*AdsClient, error) {
	if strings.TrimSpace(c.ProfileID) == "" {
		return nil, errors.New("amazon: ads: the advertiser's profile id is required")
	}
	client, err := NewClient(Config{
		Credentials: c.Credentials,
		Endpoint:    cmp.Or(c.Endpoint, DefaultAdsEndpoint),
		TokenURL:    c.TokenURL,
		HTTP:        c.HTTP,
		Now:         c.Now,
		Sleep:       c.Sleep,
		Log:         c.Log,
	})
	if err != nil {
		return nil, err
	}
	client.log = client.log.With("api", "ads") // its retries say which API
	return &AdsClient{c: client, profile: c.ProfileID, log: client.log.With("profile", c.ProfileID)}, nil
}

// adsReport is the reporting API's answer about a report.
type adsReport struct {
	ReportID      string `json:"reportId"`
	Status        string `json:"status"` // PENDING, PROCESSING, COMPLETED, FAILED
	URL           string `json:"url"`    // pre-signed: a credential, never logged
	FailureReason string `json:"failureReason"`
}

// adsRow is one row of an spCampaigns DAILY report.
type adsRow struct {
	Date         string      `json:"date"` // the profile's calendar day: JST for amazon.co.jp
	CampaignID   json.Number `json:"campaignId"`
	CampaignName string      `json:"campaignName"`
	Impressions  int64       `json:"impressions"`
	Clicks       int64       `json:"clicks"`
	Cost         float64     `json:"cost"`     // in the profile's currency
	Sales14d     float64     `json:"sales14d"` // attributed to the day's clicks
	Purchases14d int64       `json:"purchases14d"`
}

// campaignDays pulls the Sponsored Products campaign days of the days from
// to to, both included (at most adsMaxDays), as the shop's records. read is
// how many rows the report had.
func (a *AdsClient) campaignDays(ctx context.Context, shop string, from, to kpi.Date) (days []kpi.AdDay, read int, err error) {
	id, err := a.createReport(ctx, from, to)
	if err != nil {
		return nil, 0, err
	}
	u, err := a.awaitReport(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	data, err := a.c.download(ctx, "adsDownload", u)
	if err != nil {
		return nil, 0, err
	}
	rows, err := decodeAdsRows(data)
	if err != nil {
		return nil, 0, fmt.Errorf("amazon: ads report %s: %w", id, err)
	}
	days, err = adDays(shop, rows)
	if err != nil {
		return nil, 0, fmt.Errorf("amazon: ads report %s: %w", id, err)
	}
	return days, len(rows), nil
}

// createReport asks for the spCampaigns DAILY report of from to to and
// returns its id. Amazon answers 425 to a request identical to one it is
// still building (a retry after a lost answer, a sync interrupted while
// polling), naming that report: it is the one we want, so its id is
// returned.
func (a *AdsClient) createReport(ctx context.Context, from, to kpi.Date) (string, error) {
	body := map[string]any{
		"name":      fmt.Sprintf("kpibot spCampaigns %s..%s", from, to),
		"startDate": from.String(),
		"endDate":   to.String(),
		"configuration": map[string]any{
			"adProduct":    "SPONSORED_PRODUCTS",
			"groupBy":      []string{"campaign"},
			"columns":      adsColumns,
			"reportTypeId": "spCampaigns",
			"timeUnit":     "DAILY",
			"format":       "GZIP_JSON",
		},
	}
	var out adsReport
	err := a.call(ctx, "adsCreateReport", http.MethodPost, "/reporting/reports", adsCreateRequestType, adsCreateResponseType, body, &out)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusTooEarly {
		if id := duplicateReportID(ae.Message); id != "" {
			a.log.Info("amazon: ads report already requested, using it", "report", id, "from", from, "to", to)
			return id, nil
		}
	}
	if err != nil {
		return "", err
	}
	if out.ReportID == "" {
		return "", errors.New("amazon: adsCreateReport: Amazon answered without a report id")
	}
	a.log.Debug("amazon: ads report requested", "report", out.ReportID, "from", from, "to", to)
	return out.ReportID, nil
}

// duplicateReportID reads the id of the report that a 425 answer's detail
// names: "The Request is a duplicate of : <reportId>".
func duplicateReportID(detail string) string {
	_, id, ok := strings.Cut(detail, "duplicate of")
	if !ok {
		return ""
	}
	id = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(id), ":"))
	if id == "" || strings.ContainsAny(id, " /?#") {
		return ""
	}
	return id
}

// awaitReport polls report id until Amazon has built it and returns its
// download URL. The polls back off from adsPollFirst to adsPollMax; a
// report not built within adsPollFor, or that Amazon failed to build, is
// an error.
func (a *AdsClient) awaitReport(ctx context.Context, id string) (string, error) {
	wait, waited := adsPollFirst, time.Duration(0)
	for {
		if err := a.c.c.Sleep(ctx, wait); err != nil {
			return "", fmt.Errorf("amazon: ads report %s: %w", id, err)
		}
		waited += wait
		var r adsReport
		if err := a.call(ctx, "adsGetReport", http.MethodGet, "/reporting/reports/"+url.PathEscape(id), "", adsGetResponseType, nil, &r); err != nil {
			return "", err
		}
		a.log.Debug("amazon: ads report polled", "report", id, "status", r.Status, "waited", waited)
		switch r.Status {
		case "COMPLETED":
			if r.URL == "" {
				return "", fmt.Errorf("amazon: ads report %s: completed without a download URL", id)
			}
			return r.URL, nil
		case "FAILED":
			return "", fmt.Errorf("amazon: ads report %s: FAILED: %s", id, clip(cmp.Or(r.FailureReason, "no reason given"), 300))
		}
		if waited >= adsPollFor {
			return "", fmt.Errorf("amazon: ads report %s: still %s after %s", id, r.Status, waited)
		}
		wait = min(2*wait, adsPollMax)
	}
}

// call calls an Amazon Ads operation op within its rate limit, retrying
// what may succeed later, with the bearer token, the app's client id and
// the profile as scope. contentType and accept are the operation's
// versioned media types ("": none).
func (a *AdsClient) call(ctx context.Context, op, method, path, contentType, accept string, body, out any) error {
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			return fmt.Errorf("amazon: %s: %w", op, err)
		}
	}
	c := a.c
	return c.retry(ctx, op, func() error {
		if err := c.limits.wait(ctx, op); err != nil {
			return err
		}
		token, err := c.accessToken(ctx)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, method, c.c.Endpoint+path, bytes.NewReader(data))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Amazon-Advertising-API-ClientId", c.c.Credentials.ClientID)
		req.Header.Set("Amazon-Advertising-API-Scope", a.profile)
		req.Header.Set("User-Agent", "kpibot/1.0 (Language=Go)")
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		err = a.send(req, op, out)
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests {
			c.limits.empty(op)
		}
		return err
	})
}

// send is Client.send for Amazon Ads: its reporting API answers errors as
// {"code", "detail"}, which the shared parser does not read, and a 425's
// detail names the duplicate report.
func (a *AdsClient) send(req *http.Request, op string, out any) error {
	res, err := a.c.c.HTTP.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read: %w", req.Method, req.URL.Path, err)
	}
	if res.StatusCode/100 != 2 {
		e := apiError(op, res.StatusCode, body)
		var v struct {
			Detail string `json:"detail"`
		}
		if e.Message == "" && json.Unmarshal(body, &v) == nil {
			e.Message = clip(v.Detail, 300)
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s %s: decode: %w", req.Method, req.URL.Path, err)
	}
	return nil
}

// decodeAdsRows reads a report document: a JSON array, gzipped (unless
// something on the way already took the gzip off).
func decodeAdsRows(data []byte) ([]adsRow, error) {
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
		if data, err = io.ReadAll(io.LimitReader(zr, 1<<30)); err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
	}
	var rows []adsRow
	if err := json.Unmarshal(data, &rows); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return rows, nil
}

// adDays turns report rows into the shop's campaign days: the campaign is
// named by its name (by its id if it has none), the day is the row's date
// (amazon.co.jp's profile reports JST days), amounts are rounded to whole
// yen. Rows of the same campaign name and day are added up, as the store
// keys them so.
func adDays(shop string, rows []adsRow) ([]kpi.AdDay, error) {
	type key struct {
		campaign string
		day      kpi.Date
	}
	type sum struct {
		kpi.AdDay
		cost, sales float64
	}
	sums := make(map[key]*sum, len(rows))
	var order []key
	for i, r := range rows {
		day, err := kpi.ParseDate(r.Date)
		if err != nil {
			return nil, fmt.Errorf("row %d: date %q: %w", i+1, r.Date, err)
		}
		campaign := cmp.Or(strings.TrimSpace(r.CampaignName), r.CampaignID.String())
		if campaign == "" {
			return nil, fmt.Errorf("row %d: no campaign name or id", i+1)
		}
		k := key{campaign, day}
		s, ok := sums[k]
		if !ok {
			s = &sum{AdDay: kpi.AdDay{Shop: shop, Campaign: campaign, Day: day}}
			sums[k] = s
			order = append(order, k)
		}
		s.Impressions += r.Impressions
		s.Clicks += r.Clicks
		s.Orders += r.Purchases14d
		s.cost += r.Cost
		s.sales += r.Sales14d
	}
	days := make([]kpi.AdDay, 0, len(order))
	for _, k := range order {
		s := sums[k]
		s.Spend = int64(math.Round(s.cost))
		s.Sales = int64(math.Round(s.sales))
		days = append(days, s.AdDay)
	}
	slices.SortFunc(days, func(x, y kpi.AdDay) int {
		return cmp.Or(cmp.Compare(x.Day, y.Day), strings.Compare(x.Campaign, y.Campaign))
	})
	return days, nil
}

// SyncAds pulls the shop's Sponsored Products campaign days alone, as Run
// does among the other streams.
func (s *Syncer) SyncAds(ctx context.Context) (Progress, error) {
	if s.Ads == nil || s.Store == nil || s.Shop.ID == "" {
		return Progress{Stream: "ads"}, errors.New("amazon: sync ads: an ads client, a store and a shop are required")
	}
	return s.syncAds(ctx)
}

// syncAds pulls the campaign days from the day after the cursor "ads" (the
// last day pulled; on the first pull, the day of s.since()) to yesterday,
// in reports of at most 31 days, and saves the cursor after each. Today is
// left out: its figures are hours behind and incomplete.
//
// Amazon attributes a purchase to the day of the click up to 14 days
// later, so a day's sales and orders keep changing for 14 days: every pull
// starts at most 14 days back, pulling those days again. The store keys
// campaign days by shop, campaign and day, so a day pulled again is
// updated if Amazon's figures moved and left as it is otherwise. Days
// Amazon no longer keeps (95 days) are not asked for.
func (s *Syncer) syncAds(ctx context.Context) (Progress, error) {
	p := Progress{Stream: "ads"}
	log := s.log().With("stream", "ads")
	cursor, err := s.Store.SyncCursor(ctx, s.Shop.ID, "ads")
	if err != nil {
		return p, fmt.Errorf("amazon: ads: %w", err)
	}
	today := kpi.DateOf(s.now())
	last := today.AddDays(-1)
	first := kpi.DateOf(s.since())
	var done kpi.Date // the last day pulled; 0: none
	if cursor != "" {
		if done, err = kpi.ParseDate(cursor); err != nil {
			return p, fmt.Errorf("amazon: ads: cursor %q: %w", cursor, err)
		}
		first = done.AddDays(1)
	}
	first = min(first, last.AddDays(-(adsRestateDays - 1)))
	first = max(first, today.AddDays(-(adsRetentionDays - 1)))
	for from := first; from <= last; from = from.AddDays(adsMaxDays) {
		to := min(from.AddDays(adsMaxDays-1), last)
		days, read, err := s.Ads.campaignDays(ctx, s.Shop.ID, from, to)
		if err != nil {
			return p, err
		}
		p.Pages++
		p.Read += read
		st, err := s.Store.Write(ctx, &kpi.Batch{Ads: days})
		if err != nil {
			return p, fmt.Errorf("amazon: ads: write: %w", err)
		}
		p.Stats.Add(st)
		if to > done {
			if err := s.Store.SaveSyncCursor(ctx, s.Shop.ID, "ads", to.String()); err != nil {
				return p, fmt.Errorf("amazon: ads: save cursor: %w", err)
			}
			done = to
		}
		log.Debug("amazon: ads days pulled", "from", from, "to", to, "read", read, "inserted", st.Inserted,
			"updated", st.Updated, "unchanged", st.Unchanged)
	}
	return p, nil
}
