package amazontest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kpibot/kpibot/connectors/amazon"
)

// adsCreateRequestType is the reporting API's (version 3) media type for
// creating a report.
const adsCreateRequestType = "application/vnd.createasyncreportrequest.v3+json"

// AdsColumns are the columns of the spCampaigns report the fake expects,
// in any order.
var AdsColumns = []string{"date", "campaignId", "campaignName", "impressions", "clicks", "cost", "sales14d", "purchases14d"}

// AdsSignature is the query of the fake's pre-signed download URLs: a
// test can check it never reaches a log or an error.
const AdsSignature = "X-Amz-Signature=fake-signature-never-logged"

// AdsRow is one row of a Sponsored Products campaign report (DAILY), as
// Amazon writes it.
type AdsRow struct {
	Date         string  `json:"date"`
	CampaignID   int64   `json:"campaignId"`
	CampaignName string  `json:"campaignName"`
	Impressions  int64   `json:"impressions"`
	Clicks       int64   `json:"clicks"`
	Cost         float64 `json:"cost"`
	Sales14d     float64 `json:"sales14d"`
	Purchases14d int64   `json:"purchases14d"`
}

// AdsRequest is the body of a create report request.
type AdsRequest struct {
	Name          string `json:"name"`
	StartDate     string `json:"startDate"`
	EndDate       string `json:"endDate"`
	Configuration struct {
		AdProduct    string   `json:"adProduct"`
		GroupBy      []string `json:"groupBy"`
		Columns      []string `json:"columns"`
		ReportTypeID string   `json:"reportTypeId"`
		TimeUnit     string   `json:"timeUnit"`
		Format       string   `json:"format"`
	} `json:"configuration"`
}

// Ads is the fake Amazon Ads reporting API of one advertiser profile, on a
// Server. A report is PENDING when created, PROCESSING at its second poll
// and COMPLETED from its third, with a download URL on the fake that
// serves the rows of its dates, gzipped. Its operations, for Fail and
// Calls, are "adsCreateReport", "adsGetReport" and "adsDownload".
type Ads struct {
	s       *Server
	profile string

	mu      sync.Mutex
	rows    []AdsRow
	reports []*adsReport // in the order they were created
	failed  map[int]string
	stalled bool
}

type adsReport struct {
	id     string
	req    AdsRequest
	key    string // the request, canonical: identical requests have the same
	polls  int
	failed string // the failure reason if it is to fail
}

// Ads registers the fake Amazon Ads reporting API of the advertiser
// profile profileID: a call with another scope is answered 401
// UNAUTHORIZED.
func (s *Server) Ads(profileID string) *Ads {
	a := &Ads{s: s, profile: profileID, failed: map[int]string{}}
	s.Handle("adsCreateReport", "ads", "POST /reporting/reports", a.create)
	s.Handle("adsGetReport", "ads", "GET /reporting/reports/{id}", a.get)
	s.Handle("adsDownload", "", "GET /ads-reports/{id}", a.download)
	return a
}

// AdsConfig returns an Ads client config for profileID pointed at the fake.
func (s *Server) AdsConfig(profileID string) amazon.AdsConfig {
	return amazon.AdsConfig{Credentials: Credentials, ProfileID: profileID, Endpoint: s.URL, TokenURL: s.URL + "/auth/o2/token"}
}

// SetRows sets the campaign days Amazon knows: a report serves those of
// its dates.
func (a *Ads) SetRows(rows []AdsRow) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rows = slices.Clone(rows)
}

// FailReport makes the n-th report created (from 1) end FAILED with
// reason.
func (a *Ads) FailReport(n int, reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failed[n] = reason
}

// Stall keeps every report PROCESSING, however often it is polled.
func (a *Ads) Stall() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stalled = true
}

// Requests returns the bodies of the reports created, in order.
func (a *Ads) Requests() []AdsRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]AdsRequest, len(a.reports))
	for i, r := range a.reports {
		out[i] = r.req
	}
	return out
}

// scoped reports whether r is for the fake's profile, answering 401 if it
// is not.
func (a *Ads) scoped(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Amazon-Advertising-API-Scope") != a.profile {
		JSON(w, http.StatusUnauthorized, map[string]string{"code": "UNAUTHORIZED", "details": "Not authorized to access scope"})
		return false
	}
	return true
}

// adsError writes the reporting API's error answer: {"code", "detail"}.
func adsError(w http.ResponseWriter, status int, detail string) {
	JSON(w, status, map[string]string{"code": fmt.Sprint(status), "detail": detail})
}

// create is POST /reporting/reports: it checks the request is the
// spCampaigns DAILY report of at most 31 days the connector asks for.
func (a *Ads) create(w http.ResponseWriter, r *http.Request) {
	if !a.scoped(w, r) {
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != adsCreateRequestType {
		adsError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q is not supported", ct))
		return
	}
	var req AdsRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		adsError(w, http.StatusBadRequest, "Malformed request body")
		return
	}
	if problem := checkAdsRequest(req); problem != "" {
		adsError(w, http.StatusBadRequest, problem)
		return
	}
	key, _ := json.Marshal(req)
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, old := range a.reports {
		if old.key == string(key) {
			if st := a.status(old); st == "PENDING" || st == "PROCESSING" {
				adsError(w, http.StatusTooEarly, "The Request is a duplicate of : "+old.id)
				return
			}
		}
	}
	n := len(a.reports) + 1
	rep := &adsReport{id: fmt.Sprintf("0000%04d-0000-4000-8000-000000000000", n), req: req, key: string(key), failed: a.failed[n]}
	a.reports = append(a.reports, rep)
	JSON(w, http.StatusOK, a.answer(rep))
}

// checkAdsRequest returns what is wrong with req, or "".
func checkAdsRequest(req AdsRequest) string {
	c := req.Configuration
	switch {
	case c.AdProduct != "SPONSORED_PRODUCTS":
		return fmt.Sprintf("adProduct %q is not SPONSORED_PRODUCTS", c.AdProduct)
	case c.ReportTypeID != "spCampaigns":
		return fmt.Sprintf("reportTypeId %q is not spCampaigns", c.ReportTypeID)
	case !slices.Equal(c.GroupBy, []string{"campaign"}):
		return fmt.Sprintf("groupBy %q is not [campaign]", c.GroupBy)
	case c.TimeUnit != "DAILY":
		return fmt.Sprintf("timeUnit %q is not DAILY", c.TimeUnit)
	case c.Format != "GZIP_JSON":
		return fmt.Sprintf("format %q is not GZIP_JSON", c.Format)
	}
	if got, want := slices.Sorted(slices.Values(c.Columns)), slices.Sorted(slices.Values(AdsColumns)); !slices.Equal(got, want) {
		return fmt.Sprintf("columns %q are not %q", c.Columns, AdsColumns)
	}
	start, err1 := time.Parse(time.DateOnly, req.StartDate)
	end, err2 := time.Parse(time.DateOnly, req.EndDate)
	switch {
	case err1 != nil || err2 != nil:
		return "startDate and endDate must be YYYY-MM-DD"
	case end.Before(start):
		return "endDate is before startDate"
	case end.Sub(start) > 30*24*time.Hour:
		return "The date range must be 31 days or less"
	}
	return ""
}

// get is GET /reporting/reports/{id}: each poll moves the report on.
func (a *Ads) get(w http.ResponseWriter, r *http.Request) {
	if !a.scoped(w, r) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	rep := a.report(r.PathValue("id"))
	if rep == nil {
		adsError(w, http.StatusNotFound, "Report not found")
		return
	}
	rep.polls++
	JSON(w, http.StatusOK, a.answer(rep))
}

// download serves a completed report's rows: a gzipped JSON array of the
// requested columns.
func (a *Ads) download(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("id"), ".json.gz")
	if !ok || r.URL.RawQuery != AdsSignature {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<Error><Code>AccessDenied</Code></Error>`)
		return
	}
	a.mu.Lock()
	rep := a.report(id)
	var rows []map[string]any
	if rep != nil && a.status(rep) == "COMPLETED" {
		rows = a.rowsOf(rep.req)
	}
	a.mu.Unlock()
	if rows == nil {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `<Error><Code>NoSuchKey</Code></Error>`)
		return
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(rows); err != nil {
		a.s.t.Errorf("amazontest: ads report %s: %v", id, err)
	}
	zw.Close()
	w.Header().Set("Content-Type", "application/x-gzip")
	w.Write(buf.Bytes())
}

// rowsOf returns the rows of req's dates, with its columns only. The
// caller holds a.mu.
func (a *Ads) rowsOf(req AdsRequest) []map[string]any {
	rows := []map[string]any{}
	for _, row := range a.rows {
		if row.Date < req.StartDate || row.Date > req.EndDate {
			continue
		}
		data, _ := json.Marshal(row)
		var all map[string]any
		json.Unmarshal(data, &all)
		out := map[string]any{}
		for _, c := range req.Configuration.Columns {
			out[c] = all[c]
		}
		rows = append(rows, out)
	}
	return rows
}

// report returns the report id, or nil. The caller holds a.mu.
func (a *Ads) report(id string) *adsReport {
	for _, r := range a.reports {
		if r.id == id {
			return r
		}
	}
	return nil
}

// status is where rep stands after its polls. The caller holds a.mu.
func (a *Ads) status(rep *adsReport) string {
	switch {
	case rep.polls <= 1:
		return "PENDING"
	case rep.polls == 2 || a.stalled:
		return "PROCESSING"
	case rep.failed != "":
		return "FAILED"
	}
	return "COMPLETED"
}

// answer is the reporting API's description of rep. The caller holds a.mu.
func (a *Ads) answer(rep *adsReport) map[string]any {
	out := map[string]any{"reportId": rep.id, "name": rep.req.Name, "startDate": rep.req.StartDate,
		"endDate": rep.req.EndDate, "configuration": rep.req.Configuration, "status": a.status(rep),
		"url": nil, "failureReason": nil}
	switch out["status"] {
	case "COMPLETED":
		out["url"] = a.s.URL + "/ads-reports/" + rep.id + ".json.gz?" + AdsSignature
	case "FAILED":
		out["failureReason"] = rep.failed
	}
	return out
}
