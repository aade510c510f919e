// Package csvimport imports the CSV and TSV exports of the systems that have no API into the store: ERP orders (店小秘, 马帮, 通途), review exports, help-desk tickets and agent shifts, customs entries, listing compliance sheets, competitor prices, overseas-warehouse inventory and ad reports.
//
// A file is read by connectors/flatfile (UTF-8 with or without a byte
// order mark, Shift_JIS/CP932 or UTF-16; comma or tab), its columns found
// by their English, Chinese or Japanese header names (see the fields of
// each Kind, and Options.Headers for more). Every row is read: a row that
// cannot be imported is rejected with its line, column and a reason that
// the caller renders in the user's language (RowError), and the others are
// written in batches, each batch one transaction. Writes are upserts keyed
// by each record's id, so importing the same file twice changes nothing.
//
// No personal data is stored. A customer id column is hashed (the hash
// links a customer's tickets to their orders); a column of names, e-mail
// addresses, phone numbers or addresses is never read, and Summary.Personal
// names it so the user sees it was left out.
package csvimport

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/kpibot/kpibot/connectors/flatfile"
	"github.com/kpibot/kpibot/kpi"
)

// Kind is what a file holds.
type Kind string

// The kinds of files Import reads.
const (
	Orders      Kind = "orders"      // ERP order exports: orders and their shipments
	Reviews     Kind = "reviews"     // Rakuten and Yahoo! review exports
	Tickets     Kind = "tickets"     // customer-service tickets
	Shifts      Kind = "shifts"      // support agents' shifts
	Customs     Kind = "customs"     // forwarders' customs entries
	Listings    Kind = "listings"    // listing compliance sheets (PSE, labels) and prices
	Competitors Kind = "competitors" // competitor price observations
	Inventory   Kind = "inventory"   // overseas-warehouse stock snapshots
	Ads         Kind = "ads"         // daily ad reports (Rakuten RPP and others)
)

// Kinds lists every kind in the order the help shows them.
var Kinds = []Kind{Orders, Reviews, Tickets, Shifts, Customs, Listings, Competitors, Inventory, Ads}

// ParseKind reads a kind's name, in any case.
func ParseKind(s string) (Kind, bool) {
	k := Kind(strings.ToLower(strings.TrimSpace(s)))
	return k, slices.Contains(Kinds, k)
}

// Fields returns the names of kind's fields, the keys of Options.Headers;
// nil for an unknown kind.
func Fields(kind Kind) []string {
	s, ok := specs[kind]
	if !ok {
		return nil
	}
	names := make([]string, len(s.fields))
	for i, f := range s.fields {
		names[i] = f.Name
	}
	return names
}

// Headers returns the header names a field of kind is known by, without
// the caller's; nil for an unknown kind or field.
func Headers(kind Kind, field string) []string {
	for _, f := range specs[kind].fields {
		if f.Name == field {
			return slices.Clone(f.Headers)
		}
	}
	return nil
}

// DefaultBatchSize is how many rows one kpi.Batch (one transaction) holds
// when Options.BatchSize is zero.
const DefaultBatchSize = 5000

// DefaultMaxErrors is how many rejected rows a Summary lists when
// Options.MaxErrors is zero; it counts them all.
const DefaultMaxErrors = 1000

// Options are how Import reads a file; the zero value reads with the
// defaults.
type Options struct {
	// Headers gives more header names per field name (see Fields), such as
	// a config file's mapping of an ERP's own columns: "placed": {"下单日期"}.
	// A header named here is the field's even if it is another field's by
	// default; when the file has one of a field's headers given here, that
	// column is read rather than one with a default name.
	Headers map[string][]string
	// Location is where times without a zone are; nil is Japan (kpi.Tokyo).
	Location *time.Location
	// BatchSize is how many rows are written per transaction; 0 is
	// DefaultBatchSize.
	BatchSize int
	// MaxErrors is how many rejected rows Summary.Errors lists; 0 is
	// DefaultMaxErrors, -1 lists none.
	MaxErrors int
}

// Summary says what an import did.
type Summary struct {
	Kind     Kind
	Encoding flatfile.Encoding
	Read     int // rows read, after the header line
	Imported int // rows written (Read - Rejected)
	Rejected int // rows refused, each in Errors up to Options.MaxErrors
	// Stats counts the records written: an order row with a shipped time
	// is two (the order and its shipment).
	Stats kpi.WriteStats
	// Errors are the rejected rows' problems in the order of the file, one
	// or more per row.
	Errors []RowError
	// Personal are the headers of columns holding personal data (names,
	// e-mail addresses, phone numbers, addresses), which are never read.
	Personal []string
	// Unused are the headers of the other columns that no field reads.
	Unused []string
}

// RowError is a reason a row was rejected, as a message id of the locales
// and its arguments, so that the caller can say it in the user's language.
type RowError struct {
	Line   int            // the line the row starts on, from 1 (the header line is 1)
	Column string         // the column's header as the file writes it; "" for the whole row
	Key    string         // the message id of the reason, e.g. "cli.import_not_date"
	Args   map[string]any // the message's arguments, e.g. {"Value": "2026-13-45"}
}

func (e RowError) String() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s %v", e.Line, e.Key, e.Args)
	}
	return fmt.Sprintf("line %d, column %q: %s %v", e.Line, e.Column, e.Key, e.Args)
}

// Import reads a file of kind from r and writes its rows as shop's records
// to store, in transactions of Options.BatchSize rows. Rejected rows are
// counted and listed in the Summary and the rest imported. The error is
// for what stops the import: a file that is empty, lacks a column the kind
// needs or has a bad Options.Headers (a *kpi.Error, Invalid, with a locale
// key), r failing, or a failed write (the batches written before it stay
// written). The summary says what was done until then.
func Import(ctx context.Context, store kpi.Writer, shop string, kind Kind, r io.Reader, opts Options) (Summary, error) {
	sum := Summary{Kind: kind}
	spec, ok := specs[kind]
	if !ok {
		return sum, kpi.Errorf(kpi.Invalid, "cli.import_bad_kind", map[string]any{"Kind": string(kind), "Kinds": kindList()}, nil)
	}
	if shop == "" {
		return sum, errors.New("csvimport: no shop")
	}
	// The header line is peeked at before flatfile reads the file, to find
	// the caller's headers in it (see spec.with).
	br := bufio.NewReaderSize(r, peekSize)
	head, err := br.Peek(peekSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return sum, fmt.Errorf("csvimport: read: %w", err)
	}
	if len(head) < peekSize && len(bytes.TrimSpace(head)) == 0 {
		return sum, kpi.Errorf(kpi.Invalid, "cli.import_empty_file", nil, nil)
	}
	fields, err := spec.with(kind, opts.Headers, headerLine(head))
	if err != nil {
		return sum, err
	}
	size := &counter{r: br}
	fr, err := flatfile.NewReader(size, fields)
	var herr *flatfile.HeaderError
	if errors.As(err, &herr) {
		return sum, kpi.Errorf(kpi.Invalid, "cli.import_missing_columns",
			map[string]any{"Columns": strings.Join(herr.Missing, "; "), "Encoding": string(herr.Encoding)}, err)
	}
	if size.err != nil {
		return sum, fmt.Errorf("csvimport: read: %w", size.err)
	}
	if err != nil {
		return sum, kpi.Errorf(kpi.Invalid, "cli.import_bad_header", map[string]any{"Reason": err.Error()}, err)
	}
	sum.Encoding = fr.Encoding

	im := newImporter(store, shop, spec, fr, fields, opts, size.n)
	sum.Personal, sum.Unused = im.otherColumns()
	err = im.run(ctx, &sum)
	sum.Imported = sum.Read - sum.Rejected
	return sum, err
}

// importer is the state of one Import.
type importer struct {
	store     kpi.Writer
	shop      string
	spec      *spec
	fr        *flatfile.Reader
	cols      map[string]int // a field's column, by field name; absent if the file lacks it
	loc       *time.Location
	batchSize int
	maxErrors int
	seen      map[string]int // the line of the row that had each record key
	row       row            // reused for every row
}

// newImporter returns the importer of a file of size bytes.
func newImporter(store kpi.Writer, shop string, s *spec, fr *flatfile.Reader, fields []flatfile.Field, opts Options, size int64) *importer {
	im := &importer{
		store:     store,
		shop:      shop,
		spec:      s,
		fr:        fr,
		cols:      columns(fr.Header, fields),
		loc:       opts.Location,
		batchSize: opts.BatchSize,
		maxErrors: opts.MaxErrors,
		seen:      make(map[string]int, min(size/minRowBytes, maxSeenHint)),
	}
	if im.loc == nil {
		im.loc = kpi.Tokyo
	}
	if im.batchSize <= 0 {
		im.batchSize = DefaultBatchSize
	}
	switch {
	case im.maxErrors == 0:
		im.maxErrors = DefaultMaxErrors
	case im.maxErrors < 0:
		im.maxErrors = 0
	}
	im.row.im = im
	return im
}

// otherColumns returns the headers of the file's columns no field reads:
// those holding personal data, and the rest.
func (im *importer) otherColumns() (personal, unused []string) {
	read := make(map[int]bool, len(im.cols))
	for _, c := range im.cols {
		read[c] = true
	}
	for i, h := range im.fr.Header {
		switch {
		case read[i] || strings.TrimSpace(h) == "":
		case isPersonal(h):
			personal = append(personal, h)
		default:
			unused = append(unused, h)
		}
	}
	return personal, unused
}

// run reads every row and hands the good ones, a batch at a time, to a
// goroutine that writes them, so that reading a batch and writing the one
// before it overlap. Batches are written in the order of the file; the
// first failed write stops the reading, and nothing after it is written.
func (im *importer) run(ctx context.Context, sum *Summary) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan *kpi.Batch, 1)
	written := make(chan error, 1)
	var stats kpi.WriteStats
	go func() {
		var err error
		for b := range batches {
			if err != nil {
				continue // drain: the reader stops soon
			}
			var st kpi.WriteStats
			if st, err = im.store.Write(ctx, b); err != nil {
				err = fmt.Errorf("csvimport: write rows: %w", err)
				cancel()
				continue
			}
			stats.Add(st)
		}
		written <- err
	}()
	readErr := im.read(ctx, sum, batches)
	close(batches)
	writeErr := <-written
	sum.Stats = stats
	if writeErr != nil {
		return writeErr // why the reading stopped, if it did
	}
	return readErr
}

// checkEvery is how many rows are read between two looks at the context.
const checkEvery = 256

// read reads every row, rejecting the bad ones and sending the good ones
// in batches of batchSize rows.
func (im *importer) read(ctx context.Context, sum *Summary, batches chan<- *kpi.Batch) error {
	b := new(kpi.Batch)
	rows := 0 // rows in b
	for {
		if sum.Read%checkEvery == 0 && ctx.Err() != nil {
			return fmt.Errorf("csvimport: %w", ctx.Err())
		}
		fr, err := im.fr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *flatfile.RowError
		if errors.As(err, &re) {
			sum.Read++
			im.reject(sum, []RowError{readError(re)})
			continue
		}
		if err != nil {
			return fmt.Errorf("csvimport: read: %w", err)
		}
		sum.Read++
		r := &im.row
		r.reset(fr)
		im.spec.read(r, b)
		if len(r.errs) > 0 {
			im.reject(sum, r.errs)
			continue
		}
		if rows++; rows == im.batchSize {
			batches <- b
			b, rows = new(kpi.Batch), 0
		}
	}
	if rows > 0 {
		batches <- b
	}
	return nil
}

// reject counts a rejected row and lists its problems while there is room.
func (im *importer) reject(sum *Summary, errs []RowError) {
	sum.Rejected++
	if room := im.maxErrors - len(sum.Errors); room > 0 {
		sum.Errors = append(sum.Errors, errs[:min(room, len(errs))]...)
	}
}

// readError turns a row flatfile could not read into a RowError.
func readError(re *flatfile.RowError) RowError {
	e := RowError{Line: re.Line, Column: re.Column}
	var got, want int
	switch {
	case errors.Is(re.Err, csv.ErrQuote), errors.Is(re.Err, csv.ErrBareQuote):
		e.Key = "cli.import_bad_quote"
	case fieldCount(re.Err, &got, &want):
		e.Key, e.Args = "cli.import_bad_columns", map[string]any{"Got": got, "Want": want}
	default:
		e.Key, e.Args = "cli.import_bad_row", map[string]any{"Reason": re.Err.Error()}
	}
	return e
}

// fieldCount reads the numbers of flatfile's "3 columns, the header line
// has 5".
func fieldCount(err error, got, want *int) bool {
	n, _ := fmt.Sscanf(err.Error(), "%d columns, the header line has %d", got, want)
	return n == 2
}

// peekSize is how much of a file is read ahead for its header line.
const peekSize = 64 << 10

// The map of record keys seen is made for a row per minRowBytes of the
// file, at most maxSeenHint rows, so that it seldom grows.
const (
	minRowBytes = 128
	maxSeenHint = 4 << 20
)

// headerLine returns the first line of the start of a file, to find the
// caller's headers in (see spec.with); nil when it cannot be cut out: in
// UTF-16, or a line longer than the start.
func headerLine(head []byte) []byte {
	if bytes.HasPrefix(head, []byte("\xFF\xFE")) || bytes.HasPrefix(head, []byte("\xFE\xFF")) {
		return nil
	}
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		return head[:i+1]
	}
	if len(head) < peekSize {
		return head
	}
	return nil
}

// counter counts the bytes read through it, and keeps the error that
// ended the reading, if not the end of the file.
type counter struct {
	r   io.Reader
	n   int64
	err error
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		c.err = err
	}
	return n, err
}

func kindList() string {
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}
