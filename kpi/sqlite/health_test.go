package sqlite

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

func TestAlertCounts(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)
	s := open(t, func() time.Time { return now })
	defer s.Close()
	if got, err := s.AlertCounts(ctx); err != nil || len(got) != 0 {
		t.Fatalf("no alerts: %v, %v; want an empty map", got, err)
	}
	for i, st := range []kpi.AlertState{kpi.AlertOpen, kpi.AlertOpen, kpi.AlertAcked, kpi.AlertSnoozed, kpi.AlertResolved, kpi.AlertResolved} {
		a := &kpi.Alert{Key: "return_rate:s" + string(rune('a'+i)), Metric: "return_rate", Shop: "s", Severity: kpi.SeverityWarning,
			State: st, Opened: now, Updated: now, Target: 0.05}
		if st == kpi.AlertResolved {
			a.Resolved = now
		}
		if err := s.SaveAlert(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.AlertCounts(ctx)
	if want := map[string]int{"open": 2, "acked": 1, "snoozed": 1}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("AlertCounts: %v, %v; want %v (resolved episodes are not counted)", got, err, want)
	}
}

func TestPing(t *testing.T) {
	s := open(t, nil)
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping of an open store: %v", err)
	}
	s.Close()
	if err := s.Ping(context.Background()); err == nil {
		t.Error("Ping of a closed store: no error")
	}
}
