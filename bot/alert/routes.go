package alert

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/kpibot/kpibot/kpi"
	"github.com/kpibot/kpibot/locales"
)

// Route sends the alerts of some metrics and shops to chosen channels
// instead of the default routing.
type Route struct {
	Metrics []string // metric ids, Freshness among them; empty: every metric
	Shops   []string // shop ids; empty: every shop
	// To are roles (hq, jp-support, shop: the channels bound with that
	// role that see the shop) and channels ("slack:C0123", "line:C4af…":
	// that channel, whatever shops it was bound to).
	To []string
}

// matches reports whether the route is for alerts of metric and shop.
func (r Route) matches(metric, shop string) bool {
	return (len(r.Metrics) == 0 || slices.Contains(r.Metrics, metric)) && (len(r.Shops) == 0 || slices.Contains(r.Shops, shop))
}

// sends reports whether the route sends an alert of shop to channel ch.
func (r Route) sends(ch kpi.ChatChannel, shop string) bool {
	for _, to := range r.To {
		if to == channelID(ch) {
			return true
		}
		if kpi.Role(to) == ch.Role && (len(ch.Shops) == 0 || slices.Contains(ch.Shops, shop)) {
			return true
		}
	}
	return false
}

// Check tells what is wrong with the route, if anything.
func (r Route) Check() error {
	if len(r.To) == 0 {
		return errors.New("to: no role or channel")
	}
	for _, id := range r.Metrics {
		if m, ok := kpi.Lookup(id); id != Freshness && (!ok || m.Op == "") {
			return fmt.Errorf("metrics: %q is not a metric with a target", id)
		}
	}
	for _, to := range r.To {
		switch {
		case kpi.Role(to) == kpi.RoleHQ, kpi.Role(to) == kpi.RoleJPSupport, kpi.Role(to) == kpi.RoleShop:
		case strings.HasPrefix(to, "slack:") && len(to) > len("slack:"), strings.HasPrefix(to, "line:") && len(to) > len("line:"):
		default:
			return fmt.Errorf("to: %q is neither a role (hq, jp-support, shop) nor a channel (slack:C…, line:C…)", to)
		}
	}
	return nil
}

// routes reports whether an alert of metric and shop goes to channel ch:
// as the first route that matches it says, else as Routes does.
func (m *Manager) routes(ch kpi.ChatChannel, metric, shop string) bool {
	for _, r := range m.c.Routes {
		if r.matches(metric, shop) {
			return r.sends(ch, shop)
		}
	}
	return Routes(ch, metric, shop)
}

// Contact is a manager alerts are escalated to.
type Contact struct {
	Name string
	// Slack is the manager's Slack member id (U0123ABCD): mentioned in the
	// Slack channels that got the alert.
	Slack string
	// LINE is the manager's LINE user id (U and 32 hex digits): the
	// escalation is pushed to them one to one (they must have added the
	// bot as a friend).
	LINE  string
	Lang  string   // the language of the LINE push: zh, ja, en or bilingual; "": Chinese
	Shops []string // only the alerts of these shops; empty: every shop
}

var (
	slackMember = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	lineUser    = regexp.MustCompile(`^U[0-9a-f]{32}$`)
)

// Check tells what is wrong with the contact, if anything.
func (c Contact) Check() error {
	switch {
	case c.Slack == "" && c.LINE == "":
		return errors.New("neither a Slack member id nor a LINE user id")
	case c.Slack != "" && !slackMember.MatchString(c.Slack):
		return fmt.Errorf("slack: %q is not a Slack member id (U0123ABCD)", c.Slack)
	case c.LINE != "" && !lineUser.MatchString(c.LINE):
		return fmt.Errorf("line: %q is not a LINE user id (U and 32 hex digits)", c.LINE)
	}
	if _, ok := locales.ParseLang(c.Lang); c.Lang != "" && !ok {
		return fmt.Errorf("lang: %q is not one of zh, ja, en, bilingual", c.Lang)
	}
	return nil
}

// covers reports whether the contact hears of the alerts of shop.
func (c Contact) covers(shop string) bool { return len(c.Shops) == 0 || slices.Contains(c.Shops, shop) }

// channel is the contact's one-to-one LINE chat, as a channel alert
// messages can go to.
func (c Contact) channel() kpi.ChatChannel {
	return kpi.ChatChannel{Platform: "line", ID: c.LINE, Lang: c.Lang}
}
