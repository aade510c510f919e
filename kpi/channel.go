package kpi

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Role is what a chat channel is for.
type Role string

// Channel roles.
const (
	RoleHQ        Role = "hq"         // managers at HQ in China
	RoleJPSupport Role = "jp-support" // the support team in Japan
	RoleShop      Role = "shop"       // one shop's or platform's team
)

// Roles lists the roles.
var Roles = []Role{RoleHQ, RoleJPSupport, RoleShop}

// Lang is the language a channel of the role reads unless it is told
// otherwise: Chinese at HQ, Japanese in the Japan support team; "" for a
// shop team, which may be either.
func (r Role) Lang() string {
	switch r {
	case RoleHQ:
		return "zh"
	case RoleJPSupport:
		return "ja"
	}
	return ""
}

// ChatChannel is a chat channel (or a direct conversation) bound to kpibot: its
// role, its language, the shops it may see and when it gets the daily digest.
type ChatChannel struct {
	Platform string // slack, line
	ID       string // the platform's channel, group or user id
	Role     Role
	Lang     string   // zh, ja, en or zh+ja
	Shops    []string // the shops it may see; empty for every shop
	DigestAt string   // the daily digest's time, "HH:MM" JST; "" for the default (09:00)
}

// DefaultDigestAt is when a channel without a DigestAt gets the daily
// digest: 09:00 JST.
const DefaultDigestAt = 9 * time.Hour

// ParseClock reads a time of day, "8:30" or "08:30" (ASCII: callers fold
// full-width digits and colons first), from 00:00 to 23:59, as the time since
// midnight. Anything else is an Invalid *Error with the key error.bad_clock.
func ParseClock(s string) (time.Duration, error) {
	h, m, ok := cutClock(s)
	if !ok {
		return 0, Errorf(Invalid, "error.bad_clock", map[string]any{"Text": s}, nil)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

func cutClock(s string) (h, m int, ok bool) {
	hs, ms, found := strings.Cut(s, ":")
	if !found || len(hs) < 1 || len(hs) > 2 || len(ms) != 2 || !allDigits(hs) || !allDigits(ms) {
		return 0, 0, false
	}
	h, _ = strconv.Atoi(hs)
	m, _ = strconv.Atoi(ms)
	return h, m, h <= 23 && m <= 59
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FormatClock writes a time since midnight as "HH:MM", the form DigestAt
// keeps; seconds are dropped.
func FormatClock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// ChatChannels keeps the channels' bindings.
type ChatChannels interface {
	ChatChannel(ctx context.Context, platform, id string) (ChatChannel, bool, error)
	BindChatChannel(ctx context.Context, c ChatChannel) error
}

// BindCode is what a one-time bind code gives the chat channel that uses it:
// a chat where nobody can be asked whether they are an admin (LINE) is bound
// with a code that an admin made elsewhere.
type BindCode struct {
	Channel ChatChannel // its Role, Lang, Shops and DigestAt; Platform and ID are the using channel's
	Expires time.Time
}

// BindCodes keeps bind codes by the hash of the code, never the code itself,
// so that what is kept cannot be typed into a chat.
type BindCodes interface {
	SaveBindCode(ctx context.Context, hash string, c BindCode) error
	// UseBindCode marks the code used and returns it, once: an unknown, used
	// or expired code is a NotFound *Error whose key says which, and two
	// channels using the same code at once get it once between them.
	UseBindCode(ctx context.Context, hash string, now time.Time) (BindCode, error)
}

// ChannelLister lists the bound chat channels: what the scheduler sends
// digests and reviews to.
type ChannelLister interface {
	// ChatChannelList returns every bound channel, ordered by platform and id.
	ChatChannelList(ctx context.Context) ([]ChatChannel, error)
}
