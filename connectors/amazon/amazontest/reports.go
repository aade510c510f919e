package amazontest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"sync"
	"time"
)

// ReportTypes are the report types the fake's Reports API knows;
// createReport refuses others as Amazon does.
var ReportTypes = []string{
	"GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA",
	"GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL",
	"GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA",
	"GET_SELLER_FEEDBACK_DATA",
	"GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
}

// Outcome is how the fake's reports of one type end.
type Outcome struct {
	// Status is the processingStatus a report has from its third getReport
	// on, after IN_QUEUE and IN_PROGRESS: DONE, FATAL or CANCELLED, or
	// IN_PROGRESS for a report that never ends. "": DONE.
	Status string
	// Document is a DONE report's document, served gzipped (GZIP).
	Document []byte
	// Plain serves Document as it is, without a compressionAlgorithm.
	Plain bool
}

// CreatedReport is a createReport request the fake accepted.
type CreatedReport struct {
	ID             string
	ReportType     string
	MarketplaceIDs []string
	DataStartTime  time.Time // zero when not given
	DataEndTime    time.Time // zero when not given
	At             time.Time // when it was created: the report's createdTime
}

// Reports is the fake's Reports API 2021-06-30: reports are created,
// polled through IN_QUEUE and IN_PROGRESS to their outcome, and their
// documents served from pre-signed URLs that expire after five minutes.
// A report type without an outcome set ends CANCELLED, as Amazon's do when
// there is no data.
type Reports struct {
	s   *Server
	now func() time.Time

	mu       sync.Mutex
	quick    bool // reports reach their outcome at the first getReport
	outcomes map[string]Outcome
	created  []CreatedReport
	reports  map[string]*report
	docs     map[string]*document
}

type report struct {
	CreatedReport
	outcome Outcome
	polls   int
}

type document struct {
	id     string
	body   []byte // as served
	gzip   bool
	issued time.Time // when its URL was last handed out
}

// ServeReports registers createReport, getReport and getReportDocument
// (auth "sp") and the documents' pre-signed URLs (operation
// "downloadDocument", no auth) on s. now is the clock of the reports'
// times and of the URLs' expiry; nil: time.Now.
func (s *Server) ServeReports(now func() time.Time) *Reports {
	if now == nil {
		now = time.Now
	}
	r := &Reports{s: s, now: now, outcomes: map[string]Outcome{}, reports: map[string]*report{}, docs: map[string]*document{}}
	s.Handle("createReport", "sp", "POST /reports/2021-06-30/reports", r.create)
	s.Handle("getReport", "sp", "GET /reports/2021-06-30/reports/{reportId}", r.get)
	s.Handle("getReportDocument", "sp", "GET /reports/2021-06-30/documents/{reportDocumentId}", r.document)
	s.Handle("downloadDocument", "", "GET /report-documents/{id}", r.download)
	return r
}

// Set makes every report of reportType created from now on end as o.
func (r *Reports) Set(reportType string, o Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if o.Status == "" {
		o.Status = "DONE"
	}
	r.outcomes[reportType] = o
}

// Quick makes the reports reach their outcome at their first getReport,
// without IN_QUEUE and IN_PROGRESS: for a test that runs kpibot at real
// speed, where each of those polls would cost it 15 to 30 seconds.
func (r *Reports) Quick() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.quick = true
}

// Created returns the reports created, in order.
func (r *Reports) Created() []CreatedReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.created)
}

// create is createReport: it checks the specification as Amazon's model
// has it and answers 202 with the report's id.
func (r *Reports) create(w http.ResponseWriter, req *http.Request) {
	if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt != "application/json" {
		Error(w, http.StatusUnsupportedMediaType, "InvalidInput", "Content-Type must be application/json")
		return
	}
	var spec struct {
		ReportType     string            `json:"reportType"`
		MarketplaceIDs []string          `json:"marketplaceIds"`
		DataStartTime  *time.Time        `json:"dataStartTime"`
		DataEndTime    *time.Time        `json:"dataEndTime"`
		ReportOptions  map[string]string `json:"reportOptions"`
	}
	if err := json.NewDecoder(req.Body).Decode(&spec); err != nil {
		Error(w, http.StatusBadRequest, "InvalidInput", "Could not parse the request body")
		return
	}
	now := r.now()
	var bad string
	switch {
	case !slices.Contains(ReportTypes, spec.ReportType):
		bad = fmt.Sprintf("Invalid report type %q", spec.ReportType)
	case len(spec.MarketplaceIDs) < 1 || len(spec.MarketplaceIDs) > 25 || slices.Contains(spec.MarketplaceIDs, ""):
		bad = "marketplaceIds must hold 1 to 25 marketplace ids"
	case spec.DataStartTime != nil && spec.DataStartTime.After(now), spec.DataEndTime != nil && spec.DataEndTime.After(now):
		bad = "dataStartTime and dataEndTime must not be in the future"
	case spec.DataStartTime != nil && spec.DataEndTime != nil && spec.DataEndTime.Before(*spec.DataStartTime):
		bad = "dataEndTime is before dataStartTime"
	}
	if bad != "" {
		Error(w, http.StatusBadRequest, "InvalidInput", bad)
		return
	}
	r.mu.Lock()
	c := CreatedReport{ID: fmt.Sprintf("5003901%04d", len(r.created)+1), ReportType: spec.ReportType,
		MarketplaceIDs: spec.MarketplaceIDs, At: now.UTC().Truncate(time.Millisecond)}
	if spec.DataStartTime != nil {
		c.DataStartTime = *spec.DataStartTime
	}
	if spec.DataEndTime != nil {
		c.DataEndTime = *spec.DataEndTime
	}
	o, ok := r.outcomes[spec.ReportType]
	if !ok {
		o = Outcome{Status: "CANCELLED"}
	}
	r.created = append(r.created, c)
	r.reports[c.ID] = &report{CreatedReport: c, outcome: o}
	r.mu.Unlock()
	JSON(w, http.StatusAccepted, map[string]string{"reportId": c.ID})
}

// get is getReport: IN_QUEUE on the first call, IN_PROGRESS on the second,
// the outcome from the third on; the outcome at once when Quick.
func (r *Reports) get(w http.ResponseWriter, req *http.Request) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	rep, ok := r.reports[req.PathValue("reportId")]
	if !ok {
		Error(w, http.StatusNotFound, "NotFound", "The report does not exist.")
		return
	}
	rep.polls++
	stamp := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	out := map[string]any{
		"reportId":       rep.ID,
		"reportType":     rep.ReportType,
		"marketplaceIds": rep.MarketplaceIDs,
		"createdTime":    stamp(rep.At),
	}
	if !rep.DataStartTime.IsZero() {
		out["dataStartTime"] = stamp(rep.DataStartTime)
	}
	if !rep.DataEndTime.IsZero() {
		out["dataEndTime"] = stamp(rep.DataEndTime)
	}
	status := rep.outcome.Status
	switch {
	case r.quick:
	case rep.polls == 1:
		status = "IN_QUEUE"
	case rep.polls == 2:
		status = "IN_PROGRESS"
	}
	out["processingStatus"] = status
	if status != "IN_QUEUE" {
		out["processingStartTime"] = stamp(rep.At)
	}
	switch status {
	case "DONE":
		id := "amzn1.spdoc.1.4.fe." + rep.ID
		if _, ok := r.docs[id]; !ok {
			d := &document{id: id, body: rep.outcome.Document, gzip: !rep.outcome.Plain}
			if d.gzip {
				var buf bytes.Buffer
				zw := gzip.NewWriter(&buf)
				zw.Write(rep.outcome.Document)
				zw.Close()
				d.body = buf.Bytes()
			}
			r.docs[id] = d
		}
		out["reportDocumentId"] = id
		fallthrough
	case "FATAL", "CANCELLED":
		out["processingEndTime"] = stamp(now)
	}
	JSON(w, http.StatusOK, out)
}

// document is getReportDocument: a new pre-signed URL for the document.
func (r *Reports) document(w http.ResponseWriter, req *http.Request) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	d, ok := r.docs[req.PathValue("reportDocumentId")]
	if !ok {
		Error(w, http.StatusNotFound, "NotFound", "The report document does not exist.")
		return
	}
	d.issued = now
	out := map[string]string{
		"reportDocumentId": d.id,
		"url": fmt.Sprintf("%s/report-documents/%s?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=%s&X-Amz-Expires=300&X-Amz-Signature=%s",
			r.s.URL, d.id, now.UTC().Format("20060102T150405Z"), ReportSignature(d.id)),
	}
	if d.gzip {
		out["compressionAlgorithm"] = "GZIP"
	}
	JSON(w, http.StatusOK, out)
}

// download serves a document at its pre-signed URL, as S3 does: 403 when
// the signature is wrong or the URL is over five minutes old.
func (r *Reports) download(w http.ResponseWriter, req *http.Request) {
	now := r.now()
	r.mu.Lock()
	d, ok := r.docs[req.PathValue("id")]
	var body []byte
	var expired bool
	if ok {
		body, expired = d.body, now.Sub(d.issued) > 5*time.Minute
	}
	r.mu.Unlock()
	switch {
	case !ok || req.URL.Query().Get("X-Amz-Signature") != ReportSignature(d.id):
		s3Error(w, "AccessDenied", "Access Denied")
	case expired:
		s3Error(w, "AccessDenied", "Request has expired")
	default:
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	}
}

// ReportSignature is the X-Amz-Signature of a report document's
// pre-signed URL: a test checks that it reaches no log and no error.
func ReportSignature(documentID string) string {
	sum := sha256.Sum256([]byte("fake-s3-signing-key/" + documentID))
	return hex.EncodeToString(sum[:])
}

func s3Error(w http.ResponseWriter, code, message string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>", code, message)
}
