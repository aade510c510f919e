package chart

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/kpibot/kpibot/kpi"
)

// The fixtures: realistic series, made by a fixed formula and a tiny
// generator of our own, so that they are the same on every machine and Go
// version.

// noise is a deterministic generator of values in [-1, 1).
type noise uint64

func (n *noise) next() float64 {
	*n = *n*6364136223846793005 + 1442695040888963407
	return float64(uint32(*n>>33))/float64(1<<31) - 1
}

var lastDay = kpi.NewDate(2026, time.November, 28) // a Saturday

func percent(v float64) string { return strconv.FormatFloat(v*100, 'f', -1, 64) + "%" }

func hours(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "h" }

// returnRate30 is 30 days of a return rate around 4%, with a weekly rhythm,
// a bad stretch and three days over the 5% target.
func returnRate30() []Point {
	n := noise(30)
	var ps []Point
	for i := range 30 {
		d := lastDay - kpi.Date(29-i)
		v := 0.040 + 0.004*math.Sin(float64(i)*2*math.Pi/7) + 0.003*n.next()
		if i >= 17 && i <= 19 {
			v += 0.014
		}
		v = math.Round(v*1000) / 1000
		ps = append(ps, Point{Day: d, V: v, Breach: v > 0.05})
	}
	return ps
}

// shipHours90 is 90 days of the average hours from order to shipment,
// against a target of at most 24 h: a 4-day outage of the order feed, two
// single days without data, a peak (sales events) with breaches.
func shipHours90() []Point {
	n := noise(90)
	var ps []Point
	for i := range 90 {
		d := lastDay - kpi.Date(89-i)
		v := 17 + 3*math.Sin(float64(i)/9) + 2.5*n.next()
		if d.Weekday() == time.Monday {
			v += 4 // the weekend's orders
		}
		if i >= 60 && i <= 68 {
			v += 6 + 2*math.Sin(float64(i-60)/3)
		}
		v = math.Round(v*10) / 10
		switch {
		case i >= 40 && i <= 43, i == 22, i == 75:
			v = math.NaN()
		}
		ps = append(ps, Point{Day: d, V: v, Breach: v > 24})
	}
	return ps
}

func trend30zh() Trend {
	ps := returnRate30()
	breaches := 0
	for _, p := range ps {
		if p.Breach {
			breaches++
		}
	}
	return Trend{
		Title:          "退货率 · 全部店铺 · 最近30天",
		Subtitle:       fmt.Sprintf("目标 ≤ 5.0%% · %d 天未达标", breaches),
		Points:         ps,
		Threshold:      0.05,
		ThresholdLabel: "目标 ≤ 5.0%",
		Format:         percent,
		Empty:          "该期间无数据",
	}
}

func trend90ja() Trend {
	return Trend{
		Title:          "平均出荷時間 · 楽天市場店 · 過去90日",
		Subtitle:       "目標 ≤ 24時間 · 未達 9 日 · データなし 6 日",
		Points:         shipHours90(),
		Threshold:      24,
		ThresholdLabel: "目標 ≤ 24時間",
		Format:         hours,
		Empty:          "この期間のデータはありません",
	}
}

func trendEmptyZh() Trend {
	t := trend30zh()
	t.Subtitle = "目标 ≤ 5.0%"
	for i := range t.Points {
		t.Points[i].V = math.NaN()
		t.Points[i].Breach = false
	}
	return t
}

func trendLongTitleJa() Trend {
	t := trend90ja()
	t.Title = "平均出荷時間 · 楽天市場店、Yahoo!ショッピング店、Amazon.co.jp 店、自社EC（Shopify）の全店舗合計 · 2026年8月31日〜11月28日"
	t.Subtitle = "目標 ≤ 24時間 · 未達 9 日 · データなし 6 日 · 前期比 +1.8 時間 ↑ · 週末明けの月曜日に遅れが集中しています（倉庫の休日出荷なし）"
	t.ThresholdLabel = "目標：24時間以内に出荷（店舗規定）"
	return t
}

// series makes n days of a value around mid, swinging by amp, with breaches
// where over says.
func series(seed noise, n int, mid, amp float64, breach func(float64) bool) []Point {
	var ps []Point
	for i := range n {
		v := mid + amp*0.6*math.Sin(float64(i)/4+float64(seed)) + amp*0.4*seed.next()
		ps = append(ps, Point{Day: lastDay - kpi.Date(n-1-i), V: v, Breach: breach != nil && breach(v)})
	}
	return ps
}

func over(t float64) func(float64) bool  { return func(v float64) bool { return v > t } }
func under(t float64) func(float64) bool { return func(v float64) bool { return v < t } }

func overview(ja bool, days int) Overview {
	nan := math.NaN()
	few := series(5, days, 3.1, 0.8, nil)
	for i := range few {
		if i%3 != 0 {
			few[i].V = nan
		}
	}
	none := series(6, days, 0, 0, nil)
	for i := range none {
		none[i].V = nan
	}
	panels := []Panel{
		{Title: "销售额", Value: "¥1,284,600", Verdict: kpi.VerdictInfo, Points: series(1, days, 42000, 9000, nil), Threshold: nan},
		{Title: "24小时发货率", Value: "97.8%", Verdict: kpi.VerdictOK, Points: series(2, days, 0.975, 0.02, under(0.95)), Threshold: 0.95},
		{Title: "退货率", Value: "5.6%", Verdict: kpi.VerdictBreach, Points: series(3, days, 0.05, 0.012, over(0.05)), Threshold: 0.05},
		{Title: "差评响应时长", Value: "18.5 小时", Verdict: kpi.VerdictOK, Points: series(4, days, 16, 6, over(24)), Threshold: 24},
		{Title: "客户评分", Value: "4.3", Verdict: kpi.VerdictFew, Points: few, Threshold: 4},
		{Title: "清关失败率", Value: "—", Verdict: kpi.VerdictNoData, Points: none, Threshold: 0.02},
	}
	o := Overview{Title: "每日概览 · 全部店铺 · 11/28（周六）", Panels: panels}
	if ja {
		names := []string{"売上", "24時間以内出荷率", "返品率", "低評価対応時間", "レビュー評価", "通関不許可率"}
		for i := range o.Panels {
			o.Panels[i].Title = names[i]
		}
		o.Panels[3].Value = "18.5 時間"
		o.Panels[4].Title = "レビュー評価（楽天市場店・Yahoo!ショッピング店・Amazon.co.jp 店の平均）"
		o.Title = "日次サマリー · 全店舗 · 11/28（土）"
	}
	return o
}

// overview9 is the digest's largest overview: 9 panels of 30 days.
func overview9() Overview {
	o := overview(false, 30)
	o.Panels = append(o.Panels, o.Panels[:3]...)
	for i := range o.Panels[6:] {
		o.Panels[6+i].Points = series(noise(10+i), 30, 100, 30, over(120))
		o.Panels[6+i].Threshold = 120
	}
	return o
}
