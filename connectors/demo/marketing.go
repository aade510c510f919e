package demo

import (
	"math"
	"math/rand/v2"

	"github.com/kpibot/kpibot/kpi"
)

// rivals are the competitors a price tracker follows on every SKU; newRival
// lists against one SKU of each shop 12 days ago, below our price.
var rivals = []string{"rival-a", "rival-b"}

const newRival = "rival-c"

// ads generates a day of each campaign: bids keep ACoS at 19-26%, except on
// the blow-out campaign in its last 10 days, which buys much more traffic
// that converts badly. Today counts as far as it has run.
func (g *shopGen) ads() {
	r := g.rand("ads")
	elapsed := g.t.now.Sub(g.t.today.Start()).Hours() / 24
	for d := g.t.first; d <= g.t.today; d++ {
		for i, name := range g.p.campaigns {
			impressions := g.p.impressions[i] * g.volume(d) * uniform(r, 0.85, 1.15)
			if d == g.t.today {
				impressions *= elapsed
			}
			ctr := uniform(r, 0.004, 0.008)
			cvr := uniform(r, 0.07, 0.11)
			aov := uniform(r, 4500, 6500)
			cpc := uniform(r, 0.19, 0.26) * cvr * aov
			if g.p.adBlowout && i == 1 && d >= g.t.blowoutFrom {
				impressions *= 2.5 // broad match and raised bids
				cpc *= 1.3
				cvr *= 0.4
			}
			if impressions < 1 {
				continue
			}
			clicks := math.Round(impressions * ctr)
			orders := math.Round(clicks * cvr)
			g.b.Ads = append(g.b.Ads, kpi.AdDay{
				Shop: g.p.shop.ID, Campaign: name, Day: d,
				Impressions: int64(impressions),
				Clicks:      int64(clicks),
				Spend:       int64(math.Round(clicks * cpc)),
				Sales:       int64(orders) * round10(aov),
				Orders:      int64(orders),
			})
		}
	}
}

// catalog generates the listings and, every other morning, the competitors'
// prices of each listed SKU: around ours, scaled by the shop's premium.
func (g *shopGen) catalog() {
	r := g.rand("catalog")
	for _, s := range g.p.skus {
		g.b.Listings = append(g.b.Listings, kpi.Listing{
			Shop: g.p.shop.ID, SKU: s.id, Launched: at(g.launchDay(s), 10, 0),
			NeedsPSE: s.needsPSE, PSEValid: s.pseValid, Label: s.label, Price: s.price,
		})
	}
	for _, s := range g.p.skus {
		var base [2]float64 // each rival's price against ours
		for j := range base {
			base[j] = 1 / (g.p.premium * uniform(r, 0.98, 1.05))
		}
		for d := max(g.t.first, g.launchDay(s)); d <= g.t.today; d++ {
			if (g.t.today-d)%2 != 0 {
				continue
			}
			for j, rival := range rivals {
				g.observe(r, s, rival, d, base[j], false)
			}
			if s.id == g.p.rivalSKU && d >= g.t.today-12 {
				g.observe(r, s, newRival, d, 0.92, d == g.t.today-12)
			}
		}
	}
}

// observe records a rival's price of about factor times ours, seen at 07:00.
func (g *shopGen) observe(r *rand.Rand, s sku, rival string, d kpi.Date, factor float64, isNew bool) {
	seen := at(d, 7, r.IntN(30))
	if !g.t.past(seen) {
		return
	}
	g.b.Competitors = append(g.b.Competitors, kpi.CompetitorObservation{
		Shop: g.p.shop.ID, SKU: s.id, Competitor: rival, Observed: seen,
		Price:      round10(float64(s.price) * factor * uniform(r, 0.98, 1.02)),
		NewListing: isNew,
	})
}
