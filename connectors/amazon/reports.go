package amazon

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/kpibot/kpibot/connectors/flatfile"
	"github.com/kpibot/kpibot/kpi"
)

// How the flat-file reports are pulled.
const (
	reportsPath = "/reports/2021-06-30"
	// reportWindow is the longest data window one report asks for.
	reportWindow = 30 * 24 * time.Hour
	// reportOverlap is how far a pull reaches back before its cursor:
	// Amazon adds rows to a report's past hours late, and writes are
	// idempotent, so the rows read twice cost nothing.
	reportOverlap = 48 * time.Hour
	// snapshotEvery is how often at most a snapshot report (inventory) is
	// made.
	snapshotEvery = time.Hour
	// A report is polled after 15 s, 30 s, then every minute, for at most
	// half an hour.
	pollFirst = 15 * time.Second
	pollMax   = time.Minute
	pollLimit = 30 * time.Minute
	// maxDocument is how many bytes a document may have, decompressed.
	maxDocument = 1 << 30
	// maxRowLogs is how many rejected rows of a document are logged one by
	// one; the rest are counted.
	maxRowLogs = 20
)

// reportSpec is a flat-file report the sync pulls into records.
//
// The Japanese header names are the ones Seller Central JP is believed to
// use when a seller's files come with Japanese headers; their exact
// spellings are unconfirmed. A file whose headers differ fails with an
// error naming the columns not found: add the names it has to the field's
// Headers (matching ignores case, width, and spaces versus hyphens).
type reportSpec struct {
	name string // the stream is "report:" + name
	typ  string // Amazon's reportType
	// snapshot: the report has no data window; it is the state when Amazon
	// makes it, and is pulled at most once per snapshotEvery.
	snapshot bool
	// fields are the only columns read: a column not named here, such as
	// a buyer's name, e-mail, phone or address, never leaves the file.
	fields []flatfile.Field
	// add adds the records of a row to recs. A value that does not fit
	// fails the row (row.Fail), and a failed row adds nothing.
	add func(recs *records, row *flatfile.Row)
}

// reports are the reports every sync pulls, each a stream of its own.
var reports = []reportSpec{{
	name: "returns",
	typ:  "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA",
	fields: []flatfile.Field{
		{Name: "returned", Headers: []string{"return-date", "返品日", "返品日時"}, Need: flatfile.Required},
		{Name: "order", Headers: []string{"order-id", "注文番号", "注文ID"}, Need: flatfile.Required},
		{Name: "sku", Headers: []string{"sku", "出品者SKU"}, Need: flatfile.Required},
		{Name: "units", Headers: []string{"quantity", "数量", "返品数"}, Need: flatfile.Required},
		{Name: "reason", Headers: []string{"reason", "返品理由", "理由"}, Need: flatfile.Present},
		{Name: "lpn", Headers: []string{"license-plate-number", "LPN", "LPN番号", "ライセンスプレート番号"}},
	},
	add: addReturn,
}, {
	name: "shipments",
	typ:  "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL",
	fields: []flatfile.Field{
		{Name: "order", Headers: []string{"amazon-order-id", "注文番号", "Amazon注文番号"}, Need: flatfile.Required},
		{Name: "shipment", Headers: []string{"shipment-id", "出荷ID", "出荷番号"}, Need: flatfile.Required},
		{Name: "shipped", Headers: []string{"shipment-date", "出荷日", "出荷日時"}, Need: flatfile.Required},
		{Name: "units", Headers: []string{"quantity-shipped", "出荷数", "出荷数量"}, Need: flatfile.Required},
		{Name: "carrier", Headers: []string{"carrier", "配送業者", "運送会社"}, Need: flatfile.Present},
		{Name: "tracking", Headers: []string{"tracking-number", "追跡番号", "お問い合わせ伝票番号"}, Need: flatfile.Present},
		{Name: "channel", Headers: []string{"sales-channel", "販売チャネル"}},
	},
	add: addShipment,
}, {
	name:     "inventory",
	typ:      "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA",
	snapshot: true,
	fields: []flatfile.Field{
		{Name: "sku", Headers: []string{"sku", "出品者SKU"}, Need: flatfile.Required},
		{Name: "fulfillable", Headers: []string{"afn-fulfillable-quantity", "FBA販売可能数", "販売可能数"}, Need: flatfile.Present},
		{Name: "reserved", Headers: []string{"afn-reserved-quantity", "FBA予約済み数", "予約済み数"}, Need: flatfile.Present},
		{Name: "inbound-working", Headers: []string{"afn-inbound-working-quantity", "FBA納品作業中の数", "納品作業中"}, Need: flatfile.Present},
		{Name: "inbound-shipped", Headers: []string{"afn-inbound-shipped-quantity", "FBA輸送中の数", "輸送中"}, Need: flatfile.Present},
		{Name: "inbound-receiving", Headers: []string{"afn-inbound-receiving-quantity", "FBA受領作業中の数", "受領作業中"}, Need: flatfile.Present},
	},
	add: addInventory,
}, {
	name: "feedback",
	typ:  "GET_SELLER_FEEDBACK_DATA",
	fields: []flatfile.Field{
		{Name: "posted", Headers: []string{"date", "日付", "評価日"}, Need: flatfile.Required},
		{Name: "rating", Headers: []string{"rating", "評価"}, Need: flatfile.Required},
		{Name: "comments", Headers: []string{"comments", "コメント"}, Need: flatfile.Present},
		{Name: "response", Headers: []string{"response", "返答", "出品者の返答"}, Need: flatfile.Present},
		{Name: "order", Headers: []string{"order-id", "注文番号"}, Need: flatfile.Present},
	},
	add: addFeedback,
}}

// SyncReport pulls one report as Run does: "returns", "shipments",
// "inventory" or "feedback".
func (s *Syncer) SyncReport(ctx context.Context, name string) (Progress, error) {
	if s.Client == nil || s.Store == nil || s.Shop.ID == "" {
		return Progress{}, errors.New("amazon: sync: a client, a store and a shop are required")
	}
	for _, r := range reports {
		if r.name == name {
			return s.syncReport(ctx, r)
		}
	}
	return Progress{}, fmt.Errorf("amazon: sync: no report %q", name)
}

// syncReport pulls report r from its cursor, the end of the last data
// window it pulled, to now: in windows of at most reportWindow, the first
// reaching reportOverlap back. Its first pull starts at s.since(). A
// snapshot report is pulled when its cursor, the time of the last one, is
// snapshotEvery old. The cursor is saved after each window's records.
func (s *Syncer) syncReport(ctx context.Context, r reportSpec) (Progress, error) {
	p := Progress{Stream: "report:" + r.name}
	log := s.log().With("stream", p.Stream)
	var last time.Time
	cursor, err := s.Store.SyncCursor(ctx, s.Shop.ID, p.Stream)
	if err != nil {
		return p, fmt.Errorf("read cursor: %w", err)
	}
	if cursor != "" {
		if last, err = time.Parse(time.RFC3339, cursor); err != nil {
			log.Warn("amazon: unreadable cursor: starting over", "cursor", cursor)
			last = time.Time{}
		}
	}
	now := s.now().UTC().Truncate(time.Second)
	if r.snapshot {
		if !last.IsZero() && now.Sub(last) < snapshotEvery {
			log.Debug("amazon: snapshot is recent", "taken", last)
			return p, nil
		}
		if err := s.pullReport(ctx, log, r, time.Time{}, time.Time{}, &p); err != nil {
			return p, err
		}
		return p, s.saveCursor(ctx, p.Stream, now)
	}
	start := s.since().UTC().Truncate(time.Second)
	if !last.IsZero() {
		start = last.Add(-reportOverlap)
	}
	for start.Before(now) {
		end := start.Add(reportWindow)
		if end.After(now) {
			end = now
		}
		if err := s.pullReport(ctx, log, r, start, end, &p); err != nil {
			return p, fmt.Errorf("window %s to %s: %w", start.Format(time.RFC3339), end.Format(time.RFC3339), err)
		}
		if err := s.saveCursor(ctx, p.Stream, end); err != nil {
			return p, err
		}
		start = end
	}
	return p, nil
}

func (s *Syncer) saveCursor(ctx context.Context, stream string, t time.Time) error {
	if err := s.Store.SaveSyncCursor(ctx, s.Shop.ID, stream, t.UTC().Format(time.RFC3339)); err != nil {
		return fmt.Errorf("save cursor: %w", err)
	}
	return nil
}

// reportStatus is getReport's answer.
type reportStatus struct {
	ReportID         string    `json:"reportId"`
	ProcessingStatus string    `json:"processingStatus"`
	CreatedTime      time.Time `json:"createdTime"`
	ReportDocumentID string    `json:"reportDocumentId"`
}

// pullReport has Amazon make report r of the window [start, end) (none
// when both are zero), waits for it, reads its document and writes its
// records. A report Amazon cancels had no data: nothing is written.
func (s *Syncer) pullReport(ctx context.Context, log *slog.Logger, r reportSpec, start, end time.Time, p *Progress) error {
	spec := struct {
		ReportType     string   `json:"reportType"`
		MarketplaceIDs []string `json:"marketplaceIds"`
		DataStartTime  string   `json:"dataStartTime,omitempty"`
		DataEndTime    string   `json:"dataEndTime,omitempty"`
	}{ReportType: r.typ, MarketplaceIDs: []string{s.Client.Marketplace()}}
	if !start.IsZero() {
		spec.DataStartTime, spec.DataEndTime = start.Format(time.RFC3339), end.Format(time.RFC3339)
	}
	var created struct {
		ReportID string `json:"reportId"`
	}
	if err := s.Client.post(ctx, "createReport", reportsPath+"/reports", spec, &created); err != nil {
		return err
	}
	if created.ReportID == "" {
		return errors.New("amazon: createReport: Amazon answered without a report id")
	}
	rep, err := s.awaitReport(ctx, created.ReportID)
	if err != nil {
		return err
	}
	switch rep.ProcessingStatus {
	case "CANCELLED":
		log.Info("amazon: report cancelled: no data", "report", rep.ReportID)
		return nil
	case "FATAL":
		return fmt.Errorf("amazon: report %s (%s) failed: FATAL", rep.ReportID, r.typ)
	}
	data, err := s.reportDocument(ctx, rep.ReportDocumentID)
	if err != nil {
		return err
	}
	recs, err := s.readReport(log, r, rep, data)
	if err != nil {
		return fmt.Errorf("amazon: report %s: %w", rep.ReportID, err)
	}
	p.Pages++
	p.Read += recs.batch.Len()
	p.Rejected += recs.rejected
	if recs.batch.Len() == 0 {
		return nil
	}
	st, err := s.Store.Write(ctx, &recs.batch)
	if err != nil {
		return fmt.Errorf("amazon: report %s: write: %w", rep.ReportID, err)
	}
	p.Stats.Add(st)
	return nil
}

// awaitReport polls getReport until the report is DONE, FATAL or
// CANCELLED, waiting pollFirst and then twice as long each time, up to
// pollMax, for at most pollLimit in all.
func (s *Syncer) awaitReport(ctx context.Context, id string) (reportStatus, error) {
	wait, waited := pollFirst, time.Duration(0)
	for {
		var rep reportStatus
		if err := s.Client.get(ctx, "getReport", reportsPath+"/reports/"+url.PathEscape(id), nil, &rep); err != nil {
			return rep, err
		}
		switch rep.ProcessingStatus {
		case "DONE":
			if rep.ReportDocumentID == "" {
				return rep, fmt.Errorf("amazon: report %s is DONE without a document", id)
			}
			return rep, nil
		case "FATAL", "CANCELLED":
			return rep, nil
		case "IN_QUEUE", "IN_PROGRESS":
		default:
			return rep, fmt.Errorf("amazon: report %s: unknown processing status %q", id, rep.ProcessingStatus)
		}
		if waited+wait > pollLimit {
			return rep, fmt.Errorf("amazon: report %s still %s after %s", id, rep.ProcessingStatus, waited)
		}
		if err := s.Client.c.Sleep(ctx, wait); err != nil {
			return rep, fmt.Errorf("amazon: report %s: %w", id, err)
		}
		waited += wait
		wait = min(2*wait, pollMax)
	}
}

// reportDocument downloads a report's document from the pre-signed URL
// that getReportDocument gives (never logged), decompressed.
func (s *Syncer) reportDocument(ctx context.Context, id string) ([]byte, error) {
	var doc struct {
		URL                  string `json:"url"`
		CompressionAlgorithm string `json:"compressionAlgorithm"`
	}
	if err := s.Client.get(ctx, "getReportDocument", reportsPath+"/documents/"+url.PathEscape(id), nil, &doc); err != nil {
		return nil, err
	}
	if doc.URL == "" {
		return nil, fmt.Errorf("amazon: getReportDocument: document %s has no URL", id)
	}
	data, err := s.Client.download(ctx, "downloadDocument", doc.URL)
	if err != nil {
		return nil, err
	}
	switch doc.CompressionAlgorithm {
	case "":
		return data, nil
	case "GZIP":
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("amazon: document %s: gunzip: %w", id, err)
		}
		out, err := io.ReadAll(io.LimitReader(zr, maxDocument+1))
		if err != nil {
			return nil, fmt.Errorf("amazon: document %s: gunzip: %w", id, err)
		}
		if len(out) > maxDocument {
			return nil, fmt.Errorf("amazon: document %s is over %d bytes", id, maxDocument)
		}
		return out, nil
	}
	return nil, fmt.Errorf("amazon: document %s: unknown compression %q", id, doc.CompressionAlgorithm)
}

// readReport reads a document's rows into records. A row that is rejected
// is logged with its line and reason, and counted; the others go on.
func (s *Syncer) readReport(log *slog.Logger, r reportSpec, rep reportStatus, data []byte) (*records, error) {
	fr, err := flatfile.NewReader(bytes.NewReader(data), r.fields)
	if err != nil {
		return nil, err
	}
	made := rep.CreatedTime
	if made.IsZero() {
		made = s.now()
	}
	recs := &records{shop: s.Shop.ID, made: made.UTC().Truncate(time.Second), at: map[string]int{}}
	rows, rejected := 0, 0
	for ; ; rows++ {
		row, err := fr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *flatfile.RowError
		if err == nil {
			r.add(recs, row)
			err = row.Err()
		}
		if err == nil {
			continue
		}
		if !errors.As(err, &re) {
			return nil, err
		}
		if rejected++; rejected <= maxRowLogs {
			log.Warn("amazon: report row rejected", "report", rep.ReportID, "line", re.Line, "reason", err)
		}
	}
	recs.rejected = rejected
	log.Info("amazon: report read", "report", rep.ReportID, "encoding", fr.Encoding, "rows", rows,
		"records", recs.batch.Len(), "rejected", rejected, "skipped", recs.skipped)
	return recs, nil
}

// records are the records of one document, its rows of one return or
// one shipment merged.
type records struct {
	shop     string
	made     time.Time // when Amazon made the report
	batch    kpi.Batch
	at       map[string]int // a return's or a shipment's ID → its index in batch
	skipped  int            // rows left out on purpose
	rejected int            // rows refused: a bad value or a wrong column count
}

// addReturn adds a return, or adds its units to the return of the same ID.
func (rs *records) addReturn(x kpi.Return) {
	if i, ok := rs.at["return:"+x.ID]; ok {
		rs.batch.Returns[i].Units += x.Units
		return
	}
	rs.at["return:"+x.ID] = len(rs.batch.Returns)
	rs.batch.Returns = append(rs.batch.Returns, x)
}

// addShipment adds a shipment, or merges an item of it into the shipment
// of the same ID: units summed, the earliest ship time, the first carrier
// and tracking number.
func (rs *records) addShipment(x kpi.Shipment) {
	i, ok := rs.at["shipment:"+x.ID]
	if !ok {
		rs.at["shipment:"+x.ID] = len(rs.batch.Shipments)
		rs.batch.Shipments = append(rs.batch.Shipments, x)
		return
	}
	sh := &rs.batch.Shipments[i]
	sh.Units += x.Units
	if x.Shipped.Before(sh.Shipped) {
		sh.Shipped = x.Shipped
	}
	sh.Carrier = cmp.Or(sh.Carrier, x.Carrier)
	sh.Tracking = cmp.Or(sh.Tracking, x.Tracking)
}

// addReturn maps a row of the customer returns report: one return per
// license plate (the unit's label at the warehouse); a row without one is
// keyed by its order, SKU and return time.
func addReturn(rs *records, row *flatfile.Row) {
	x := kpi.Return{
		Shop:     rs.shop,
		OrderID:  row.Text("order"),
		Returned: row.Time("returned", kpi.Tokyo),
		Units:    row.Int("units"),
		Reason:   row.Text("reason"),
	}
	if row.Err() == nil && x.Units < 1 {
		row.Fail("units", fmt.Errorf("%d units returned", x.Units))
	}
	if row.Err() != nil {
		return
	}
	key := row.Text("lpn")
	if key == "" {
		key = x.Returned.UTC().Format("20060102T150405Z")
	}
	x.ID = x.OrderID + "/" + row.Text("sku") + "/" + key
	rs.addReturn(x)
}

// addShipment maps a row of the FBA shipments report, one item of a
// package: the package is the shipment. Multi-channel fulfilment orders
// (sales channel Non-Amazon: another shop's orders shipped from FBA) are
// left out. The report's buyer and recipient columns are never read.
func addShipment(rs *records, row *flatfile.Row) {
	if strings.EqualFold(row.Text("channel"), "Non-Amazon") {
		rs.skipped++
		return
	}
	x := kpi.Shipment{
		Shop:     rs.shop,
		ID:       row.Text("shipment"),
		OrderID:  row.Text("order"),
		Shipped:  row.Time("shipped", kpi.Tokyo),
		Carrier:  kpi.Carrier(row.Text("carrier")),
		Tracking: row.Text("tracking"),
		Units:    row.Int("units"),
	}
	if row.Err() != nil {
		return
	}
	rs.addShipment(x)
}

// addInventory maps a row of the FBA inventory report: a snapshot of the
// SKU taken when Amazon made the report. Inbound is every unit on its way
// in: in a shipment being prepared, shipped, or being received.
func addInventory(rs *records, row *flatfile.Row) {
	x := kpi.InventorySnapshot{
		Shop:     rs.shop,
		SKU:      row.Text("sku"),
		Taken:    rs.made,
		OnHand:   row.Int("fulfillable"),
		Reserved: row.Int("reserved"),
		Inbound:  row.Int("inbound-working") + row.Int("inbound-shipped") + row.Int("inbound-receiving"),
	}
	if row.Err() != nil {
		return
	}
	rs.batch.Inventory = append(rs.batch.Inventory, x)
}

// addFeedback maps a row of the seller feedback report, keyed by its order
// (one feedback per order), or by a hash of its date, rating and comments
// when it has none. The report says whether the seller responded, not
// when: RepliedAt is approximate, the time Amazon made a report showing the
// response (a later report that reads the feedback again, see
// reportOverlap, moves it later). The rater's e-mail is never read.
func addFeedback(rs *records, row *flatfile.Row) {
	x := kpi.Review{
		Shop:    rs.shop,
		OrderID: row.Text("order"),
		Posted:  row.Time("posted", kpi.Tokyo),
		Rating:  int(row.Int("rating")),
		Text:    row.Text("comments"),
	}
	if row.Err() == nil && (x.Rating < 1 || x.Rating > 5) {
		row.Fail("rating", fmt.Errorf("rating %d is not 1 to 5", x.Rating))
	}
	if row.Err() != nil {
		return
	}
	if row.Text("response") != "" {
		x.RepliedAt = rs.made
	}
	x.ID = x.OrderID
	if x.ID == "" {
		sum := sha256.Sum256([]byte(x.Posted.UTC().Format(time.RFC3339) + "\x00" + row.Text("rating") + "\x00" + x.Text))
		x.ID = "feedback-" + hex.EncodeToString(sum[:8])
	}
	rs.batch.Reviews = append(rs.batch.Reviews, x)
}
