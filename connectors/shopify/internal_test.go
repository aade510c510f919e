package shopify

import (
	"testing"
	"time"
)

func TestNumericID(t *testing.T) {
	tests := []struct{ gid, want string }{
		{"gid://shopify/Order/5678901234", "5678901234"},
		{"gid://shopify/Fulfillment/255858046", "255858046"},
		{"gid://shopify/Return/", ""},
		{"5678901234", "5678901234"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := numericID(tt.gid); got != tt.want {
			t.Errorf("numericID(%q) = %q, want %q", tt.gid, got, tt.want)
		}
	}
}

func TestStoreHandle(t *testing.T) {
	tests := []struct {
		store, want string
		ok          bool
	}{
		{"myshop", "myshop", true},
		{"myshop.myshopify.com", "myshop", true},
		{"https://My-Shop.myshopify.com/", "my-shop", true},
		{"", "", false},
		{"my shop", "", false},
		{"myshop.example.com", "", false},
		{"-myshop", "", false},
	}
	for _, tt := range tests {
		got, err := storeHandle(tt.store)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("storeHandle(%q) = %q, %v; want %q, ok %v", tt.store, got, err, tt.want, tt.ok)
		}
	}
}

func TestNewClientDefaults(t *testing.T) {
	c, err := NewClient(Config{Store: "myshop.myshopify.com", AccessToken: "shpat_x"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://myshop.myshopify.com/admin/api/" + DefaultAPIVersion + "/graphql.json"; c.url != want {
		t.Errorf("url %q, want %q", c.url, want)
	}
	for _, bad := range []Config{
		{Store: "myshop"},
		{Store: "myshop", AccessToken: "shpat_x", APIVersion: "latest"},
		{Store: "myshop", AccessToken: "shpat_x", Endpoint: "not a url"},
	} {
		if _, err := NewClient(bad); err == nil {
			t.Errorf("NewClient(%+v) succeeded, want an error", bad)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 20, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"2", 2 * time.Second},
		{"1.5", 1500 * time.Millisecond},
		{"3600", time.Minute}, // at most a minute
		{"-1", 0},
		{"Fri, 20 Mar 2026 03:00:07 GMT", 7 * time.Second},
		{"Fri, 20 Mar 2026 02:59:00 GMT", 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.header, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestCostBucketNeed(t *testing.T) {
	at := time.Date(2026, 3, 20, 3, 0, 0, 0, time.UTC)
	status := func(available float64) *queryCost {
		c := &queryCost{RequestedQueryCost: 842}
		c.ThrottleStatus.MaximumAvailable, c.ThrottleStatus.CurrentlyAvailable, c.ThrottleStatus.RestoreRate = 2000, available, 100
		return c
	}
	tests := []struct {
		name      string
		available float64
		after     time.Duration // since the answer
		want      time.Duration
	}{
		{"enough", 1158, 0, 0},
		{"exactly enough", 842, 0, 0},
		{"short", 316, 0, 5260 * time.Millisecond},
		{"empty", 0, 0, 8420 * time.Millisecond},
		{"empty, partly restored since", 0, 4 * time.Second, 4420 * time.Millisecond},
		{"restored since", 0, 9 * time.Second, 0},
		{"a fraction of a millisecond short", 841.9999, 0, time.Millisecond},
	}
	for _, tt := range tests {
		b := &costBucket{cost: map[string]float64{}}
		if d := b.need("orders", at); d != 0 {
			t.Errorf("%s: an unknown bucket needs %v, want 0", tt.name, d)
		}
		b.update("orders", status(tt.available), at)
		if got := b.need("orders", at.Add(tt.after)); got != tt.want {
			t.Errorf("%s: need %v, want %v", tt.name, got, tt.want)
		}
		if got := b.need("another", at.Add(tt.after)); got != 0 {
			t.Errorf("%s: a query never answered needs %v, want 0", tt.name, got)
		}
	}
}
