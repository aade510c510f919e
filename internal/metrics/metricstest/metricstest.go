// Package metricstest scrapes a /metrics endpoint for tests and reads its
// samples, parsed from Prometheus's text format.
package metricstest

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Samples are the samples of one scrape, keyed as in the text format with
// the labels sorted by name: name{a="1",b="2"}. A histogram gives its
// name_bucket{…,le="…"}, name_sum and name_count samples.
type Samples struct {
	values map[string]float64
	help   map[string]string // of each family
	types  map[string]string // of each family: counter, gauge, histogram…
}

// Scrape GETs url in the text format and parses it; it fails the test if
// it cannot, or if the answer is not 200.
func Scrape(t testing.TB, url string) Samples {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %s\n%s", url, resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("scrape %s: Content-Type %q, want the text format", url, ct)
	}
	s, err := Parse(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("scrape %s: %v\n%s", url, err, body)
	}
	return s
}

// Parse reads Prometheus's text format.
func Parse(r io.Reader) (Samples, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return Samples{}, err
	}
	s := Samples{values: map[string]float64{}, help: map[string]string{}, types: map[string]string{}}
	for name, f := range families {
		s.help[name] = f.GetHelp()
		s.types[name] = strings.ToLower(f.GetType().String())
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName(), l.GetValue())
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				s.values[Key(name, labels...)] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				s.values[Key(name, labels...)] = m.GetGauge().GetValue()
			case dto.MetricType_UNTYPED:
				s.values[Key(name, labels...)] = m.GetUntyped().GetValue()
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				s.values[Key(name+"_count", labels...)] = float64(h.GetSampleCount())
				s.values[Key(name+"_sum", labels...)] = h.GetSampleSum()
				for _, b := range h.GetBucket() {
					le := strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64)
					s.values[Key(name+"_bucket", append(slices.Clone(labels), "le", le)...)] = float64(b.GetCumulativeCount())
				}
			case dto.MetricType_SUMMARY:
				sm := m.GetSummary()
				s.values[Key(name+"_count", labels...)] = float64(sm.GetSampleCount())
				s.values[Key(name+"_sum", labels...)] = sm.GetSampleSum()
			}
		}
	}
	return s, nil
}

// Key is the key of a sample: its name and its labels, given as name,
// value pairs in any order.
func Key(name string, labels ...string) string {
	if len(labels) == 0 {
		return name
	}
	var pairs []string
	for i := 0; i+1 < len(labels); i += 2 {
		pairs = append(pairs, labels[i]+"="+strconv.Quote(labels[i+1]))
	}
	slices.Sort(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

// Get returns the value of the sample of name with exactly these labels
// (name, value pairs).
func (s Samples) Get(name string, labels ...string) (float64, bool) {
	v, ok := s.values[Key(name, labels...)]
	return v, ok
}

// Keys lists the keys of the samples of name (and of name_count, _sum and
// _bucket for a histogram), sorted.
func (s Samples) Keys(name string) []string {
	var out []string
	for k := range s.values {
		base, _, _ := strings.Cut(k, "{")
		if base == name || base == name+"_count" || base == name+"_sum" || base == name+"_bucket" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Help is the help text of a family; "" if there is no such family.
func (s Samples) Help(family string) string { return s.help[family] }

// Type is the type of a family (counter, gauge, histogram…); "" if there
// is no such family.
func (s Samples) Type(family string) string { return s.types[family] }

// String lists every sample, sorted, one a line: for failure messages.
func (s Samples) String() string {
	var lines []string
	for k, v := range s.values {
		lines = append(lines, fmt.Sprintf("%s %g", k, v))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
