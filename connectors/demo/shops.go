package demo

import (
	"fmt"

	"github.com/kpibot/kpibot/kpi"
)

// profile describes one demo shop: its volume, its habits and which of the
// demo's stories happen to it.
type profile struct {
	shop    kpi.Shop
	code    string                           // prefix of SKUs, agents and document ids, e.g. "AMZ"
	orderID func(day string, seq int) string // the platform's order id format, from the day as 20260610

	perDay       float64    // orders on an ordinary weekday
	weekendBoost float64    // weekend volume factor
	pointDays    bool       // busier on days ending in 5 or 0 (Rakuten point campaigns)
	byPlatform   float64    // share of orders fulfilled by the platform (FBA)
	bankTransfer float64    // share of orders paid by bank transfer, about a day later
	weekendMiss  float64    // chance that a weekend day's crew leaves an order to the next day
	claims       float64    // share of shipped orders with a guarantee claim
	chargebacks  float64    // share of shipped orders charged back
	stars        [5]float64 // weights of 1 to 5 star ratings
	customers    int        // first customer number; inquiry-only customers start 500000 later

	cycle, offset int     // replenishment every cycle days, the latest offset days before today
	coverDays     float64 // days of sales a replenishment tops each SKU up to
	leadDays      [2]int  // replenishment lead time range
	customsEvery  int     // days between customs entries, give or take one

	campaigns   [2]string
	impressions [2]float64 // impressions of each campaign on an ordinary day
	premium     float64    // our prices against the competitors'
	skus        []sku
	rivalSKU    string // SKU a new competitor listing undercuts 12 days ago

	// The stories.
	returnSpike bool   // about 9% of units returned since the 1st of last month
	reviewBurst bool   // six 1-2 star reviews two days ago, five unanswered
	adBlowout   bool   // the second campaign's ACoS explodes in the last 10 days
	stockout    string // a SKU not replenished for 24 days, about 4 days of cover left
	slowWeekend bool   // a recent weekend's tickets answered Monday afternoon
	customsHold bool   // an entry held 3 days ago, documents incomplete
	lateDocs    bool   // an entry 20 days ago with incomplete documents, cleared after ~3 days
}

// sku is one product of a shop.
type sku struct {
	id       string
	price    int64   // JPY
	share    float64 // of the shop's units sold
	needsPSE bool
	pseValid bool
	label    kpi.LabelCheck
	ageDays  int // launched that many days before today; below Days means within the demo
}

func profiles() []profile {
	return []profile{
		{
			shop: kpi.Shop{ID: "amazon-jp", Platform: kpi.Amazon, Marketplace: "A1VC38T7YXB528", Name: "Amazon JP Main", Currency: "JPY"},
			code: "AMZ",
			orderID: func(day string, seq int) string {
				return fmt.Sprintf("249-%s0-%07d", day[2:], seq)
			},
			perDay: 150, weekendBoost: 1.15, byPlatform: 0.6, weekendMiss: 0.08,
			claims: 0.003, chargebacks: 0.001,
			stars:     [5]float64{0.8, 1.2, 3, 17, 78},
			customers: 1_000_000,
			cycle:     10, offset: 4, coverDays: 28, leadDays: [2]int{5, 8},
			customsEvery: 3,
			campaigns:    [2]string{"sp-auto-all", "sp-manual-chargers"},
			impressions:  [2]float64{22000, 12000},
			premium:      0.97,
			skus: []sku{
				{id: "AMZ-CHARGER-01", price: 3980, share: 0.35, needsPSE: true, pseValid: true, ageDays: 540},
				{id: "AMZ-CABLE-01", price: 1580, share: 0.15, ageDays: 620},
				{id: "AMZ-CABLE-02", price: 1980, share: 0.10, ageDays: 410},
				{id: "AMZ-POWERBANK-01", price: 4980, share: 0.12, needsPSE: true, pseValid: true, ageDays: 300},
				{id: "AMZ-LAMP-01", price: 6480, share: 0.06, needsPSE: true, pseValid: true, label: kpi.LabelPassed, ageDays: 260},
				{id: "AMZ-CASE-01", price: 2480, share: 0.10, label: kpi.LabelPassed, ageDays: 200},
				{id: "AMZ-HUB-01", price: 5980, share: 0.07, ageDays: 150},
				{id: "AMZ-STAND-01", price: 3280, share: 0.05, label: kpi.LabelPassed, ageDays: 40},
			},
			rivalSKU:    "AMZ-CABLE-01",
			reviewBurst: true,
			stockout:    "AMZ-CHARGER-01",
			lateDocs:    true,
		},
		{
			shop: kpi.Shop{ID: "rakuten", Platform: kpi.Rakuten, Marketplace: "rakuten.co.jp", Name: "Rakuten Flagship", Currency: "JPY"},
			code: "RKT",
			orderID: func(day string, seq int) string {
				return fmt.Sprintf("391204-%s-%010d", day, seq)
			},
			perDay: 75, weekendBoost: 1.1, pointDays: true, bankTransfer: 0.08, weekendMiss: 0.08,
			claims: 0.001, chargebacks: 0.0005,
			stars:     [5]float64{1.2, 1.8, 4, 20, 73},
			customers: 2_000_000,
			cycle:     14, offset: 5, coverDays: 45, leadDays: [2]int{7, 10},
			customsEvery: 4,
			campaigns:    [2]string{"rpp-all-items", "rpp-towels"},
			impressions:  [2]float64{12000, 6000},
			premium:      0.99,
			skus: []sku{
				{id: "RKT-TOWEL-01", price: 2980, share: 0.25, label: kpi.LabelPassed, ageDays: 700},
				{id: "RKT-TOWEL-02", price: 3480, share: 0.15, label: kpi.LabelFailed, ageDays: 380},
				{id: "RKT-BEDSHEET-01", price: 6980, share: 0.12, label: kpi.LabelPassed, ageDays: 450},
				{id: "RKT-PILLOW-01", price: 4580, share: 0.10, label: kpi.LabelPassed, ageDays: 320},
				{id: "RKT-KETTLE-01", price: 5480, share: 0.10, needsPSE: true, pseValid: true, ageDays: 280},
				{id: "RKT-FAN-01", price: 7980, share: 0.08, needsPSE: true, pseValid: true, ageDays: 190},
				{id: "RKT-MUG-01", price: 1680, share: 0.15, ageDays: 250},
				{id: "RKT-APRON-01", price: 2280, share: 0.05, label: kpi.LabelPassed, ageDays: 15},
			},
			rivalSKU:    "RKT-TOWEL-01",
			returnSpike: true,
			slowWeekend: true,
		},
		{
			shop: kpi.Shop{ID: "yahoo", Platform: kpi.Yahoo, Marketplace: "shopping.yahoo.co.jp", Name: "Yahoo Shopping Outlet", Currency: "JPY"},
			code: "YSO",
			orderID: func(day string, seq int) string {
				return fmt.Sprintf("outlet-%s%04d", day, seq)
			},
			perDay: 40, weekendBoost: 1.25, weekendMiss: 0.12,
			claims: 0.001, chargebacks: 0.0005,
			stars:     [5]float64{1.5, 2, 5, 22, 69.5},
			customers: 3_000_000,
			cycle:     15, offset: 8, coverDays: 45, leadDays: [2]int{8, 12},
			customsEvery: 5,
			campaigns:    [2]string{"pr-option-all", "search-ads-heaters"},
			impressions:  [2]float64{8000, 5000},
			premium:      1.02,
			skus: []sku{
				{id: "YSO-HEATER-01", price: 8980, share: 0.15, needsPSE: true, pseValid: false, ageDays: 230},
				{id: "YSO-HEATER-02", price: 12800, share: 0.10, needsPSE: true, pseValid: true, ageDays: 400},
				{id: "YSO-BAG-01", price: 4980, share: 0.15, label: kpi.LabelPassed, ageDays: 500},
				{id: "YSO-UMBRELLA-01", price: 1980, share: 0.15, ageDays: 350},
				{id: "YSO-WATCH-01", price: 9800, share: 0.08, ageDays: 300},
				{id: "YSO-SOCKS-01", price: 1500, share: 0.17, label: kpi.LabelPassed, ageDays: 610},
				{id: "YSO-CAP-01", price: 2480, share: 0.12, label: kpi.LabelPassed, ageDays: 280},
				{id: "YSO-LED-01", price: 3480, share: 0.08, needsPSE: true, pseValid: true, ageDays: 60},
			},
			rivalSKU:    "YSO-BAG-01",
			adBlowout:   true,
			customsHold: true,
		},
	}
}
